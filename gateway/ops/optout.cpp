// `optout`: an opt-out received outside SMS; evidence first, then the contact store.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"


#include <spdlog/spdlog.h>

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

asio::awaitable<op_result> ops::optout(const json::object& req, const api::request_context& ctx) {
  auto rt = svc_.runtime();
  const auto& s = *rt->settings;
  fields f(req);
  const auto to = read_to(f);
  if (!to) co_return fail(to.error());
  std::string sender;
  resolve_sender(s, f, true, sender);
  std::string channel = "api", note;
  if (auto* src = f.obj("source", false)) {
    fields sf(*src);
    if (auto* c = sf.str("channel", false)) channel = std::string(*c);
    if (auto* n = sf.str("note", false)) note = std::string(*n);
    if (!sf.ok()) co_return fail(api_errc::bad_request, "source." + std::string(sf.failure().error().message));
  }
  if (!f.ok()) co_return f.failure();
  auto* st = store(ctx);
  if (!st) co_return store_down();
  const auto at = now_us();
  json::object rec{{"to", to->e164()}, {"sender", sender}, {"channel", channel}, {"at", format_rfc3339(at)}};
  if (!note.empty()) rec["note"] = note;
  auto ev = co_await log_.async_append(evidence::record_type::optout, std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    // An opt-out the gateway could not take: the caller must retry, and an operator must know.
    spdlog::error("opt-out of {} for {} refused: the evidence log could not record it: {}", to->masked(),
                  sender, ev.error().message());
    co_return fail(api_errc::internal, "the evidence log could not record the opt-out: " + ev.error().message());
  }
  auto r = co_await st->async_record_optout(*to, sender, at, "api:" + channel, ev->id);
  if (!r) {
    // The evidence exists but Redis has not got it: the client must retry.
    ++counters_.store_failures;
    spdlog::error("opt-out of {} for {} not stored (evidence {}; the caller must retry): {}", to->masked(),
                  sender, ev->id, r.error().message());
    co_return fail(api_errc::store_unavailable, "the opt-out could not be stored: " + r.error().message());
  }
  ++counters_.optouts;
  co_return json::object{{"evidence_id", ev->id}, {"to", to->e164()}, {"sender", sender}};
}

}  // namespace stopgate::gateway
