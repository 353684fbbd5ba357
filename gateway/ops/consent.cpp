// `consent` and `optin`: evidence first, then the contact store.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"


#include <spdlog/spdlog.h>

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

asio::awaitable<op_result> ops::consent(const json::object& req, bool optin,
                                        const api::request_context& ctx) {
  auto rt = svc_.runtime();
  const auto& s = *rt->settings;
  fields f(req);
  const auto to = read_to(f);
  if (!to) co_return fail(to.error());
  std::string sender;
  resolve_sender(s, f, false, sender);
  const int kind_i = f.choice("kind", {"express_written", "express", "ebr_purchase", "ebr_inquiry"});
  if (!req.contains("kind")) f.set("kind: required");
  const auto captured = f.time("captured_at", true);
  const auto expires = f.time("expires_at", false);
  const auto* src = f.obj("source", true);
  if (!f.ok()) co_return f.failure();
  const auto now = now_us();
  if (*captured > now + std::chrono::seconds(60)) co_return fail(api_errc::bad_request, "captured_at: in the future");
  if (expires && *expires <= *captured) co_return fail(api_errc::bad_request, "expires_at: must be after captured_at");
  fields sf(*src);
  const int method_i = sf.choice("method", {"web_form", "keyword", "verbal", "paper"});
  if (!src->contains("method")) sf.set("method: required");
  dnc::contacts::consent_record c;
  c.fact.sender = sender;
  c.fact.kind = dnc::model::consent_kind(kind_i);
  c.fact.captured_at = *captured;
  c.fact.expires_at = expires;
  static constexpr std::string_view methods[] = {"web_form", "keyword", "verbal", "paper"};
  c.source.method = std::string(methods[method_i]);
  auto copy = [&](std::string_view k, std::string& out) {
    if (auto* v = sf.str(k, false)) out = std::string(*v);
  };
  copy("url", c.source.url);
  copy("ip", c.source.ip);
  copy("user_agent", c.source.user_agent);
  copy("text", c.source.text);
  copy("proof", c.source.proof);
  if (!sf.ok()) co_return fail(api_errc::bad_request, "source." + std::string(sf.failure().error().message));
  if (c.fact.kind == dnc::model::consent_kind::express_written && c.source.text.empty())
    co_return fail(api_errc::bad_request, "source.text: required for express_written (the disclosure shown)");
  auto* st = store(ctx);
  if (!st) co_return store_down();

  // Evidence first: a consent is in effect only once it is provable.
  json::object rec{{"to", to->e164()},
                   {"sender", sender},
                   {"kind", kind_name(c.fact.kind)},
                   {"captured_at", format_rfc3339(*captured)},
                   {"method", c.source.method}};
  if (expires) rec["expires_at"] = format_rfc3339(*expires);
  if (!c.source.url.empty()) rec["url"] = c.source.url;
  if (!c.source.ip.empty()) rec["ip"] = c.source.ip;
  if (!c.source.user_agent.empty()) rec["user_agent"] = c.source.user_agent;
  if (!c.source.text.empty()) rec["text"] = c.source.text;
  if (!c.source.proof.empty()) rec["proof"] = c.source.proof;
  auto ev = co_await log_.async_append(optin ? evidence::record_type::optin : evidence::record_type::consent,
                                       std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    spdlog::error("{} of {} for {} refused: the evidence log could not record it: {}",
                  optin ? "opt-in" : "consent", to->masked(), sender, ev.error().message());
    co_return fail(api_errc::internal, "the evidence log could not record the consent: " + ev.error().message());
  }
  c.fact.evidence_id = ev->id;
  json::object out;
  if (optin) {
    auto r = co_await st->async_record_optin(*to, c);
    if (!r) {
      ++counters_.store_failures;
      spdlog::error("opt-in of {} for {} not stored (evidence {}): {}", to->masked(), sender, ev->id,
                    r.error().message());
      co_return fail(api_errc::store_unavailable, "the opt-in could not be stored: " + r.error().message());
    }
    out["consent_id"] = r->consent_id;
    out["optout_lifted"] = r->outcome == dnc::contacts::optin_outcome::lifted;
    if (r->outcome == dnc::contacts::optin_outcome::kept_newer)
      out["message"] = "an opt-out newer than this consent stays in force";
    ++counters_.optins;
  } else {
    auto r = co_await st->async_record_consent(*to, c);
    if (!r) {
      ++counters_.store_failures;
      spdlog::error("consent of {} for {} not stored (evidence {}): {}", to->masked(), sender, ev->id,
                    r.error().message());
      co_return fail(api_errc::store_unavailable, "the consent could not be stored: " + r.error().message());
    }
    out["consent_id"] = *r;
    ++counters_.consents;
  }
  out["evidence_id"] = ev->id;
  out["to"] = to->e164();
  co_return out;
}

}  // namespace stopgate::gateway
