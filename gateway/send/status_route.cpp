#include "gateway/send/status_route.hpp"

#include "carriers/signature/verify.hpp"
#include "carriers/wire/adapter.hpp"
#include "gateway/http/webhook.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/send/message_store.hpp"
#include "gateway/worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace stopgate::gateway::send {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::response;

constexpr std::string_view prefix = "/v1/status/";

dnc::model::sys_time now_us() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// The sender that owns `from` (one of its numbers), or "".
std::string owner_of(const config::settings& s, std::string_view from) {
  for (const auto& snd : s.senders)
    if (std::find(snd.numbers.begin(), snd.numbers.end(), from) != snd.numbers.end())
      return snd.name;
  return {};
}

// Applies one fresh update; false when something could not be made durable.
asio::awaitable<bool> apply(const config::settings& s, std::string_view carrier,
                            const carriers::status_update& u, evidence::log& log,
                            status_counters& counters) {
  auto* w = worker::current();
  message_store messages(*w->redis);
  auto id = co_await messages.async_find(carrier, u.carrier_message_id);
  if (!id) co_return false;
  std::optional<message_record> m;
  if (*id) {
    auto got = co_await messages.async_get(**id);
    if (!got) co_return false;
    m = std::move(*got);
  }
  const auto at = now_us();
  json::object rec{{"carrier", carrier},
                   {"carrier_message_id", u.carrier_message_id},
                   {"status", u.status},
                   {"raw_status", u.raw_status},
                   {"at", format_rfc3339(at)}};
  if (m) {
    rec["message_id"] = m->message_id;
    rec["sender"] = m->sender;
    rec["to"] = m->to;
    rec["from"] = m->from;
  } else {
    if (!u.to.empty()) rec["to"] = u.to;
    if (!u.from.empty()) rec["from"] = u.from;
  }
  if (!u.error_code.empty()) rec["error_code"] = u.error_code;
  if (u.failure) rec["failure"] = std::string(carriers::to_string(*u.failure));
  auto ev = co_await log.async_append(evidence::record_type::status, std::move(rec));
  if (!ev) {
    spdlog::error("status callback ({}): the evidence log failed: {}", carrier,
                  ev.error().message());
    co_return false;
  }
  if (m) {
    auto up = co_await messages.async_update_status(m->message_id, u.status, at);
    if (!up) co_return false;
  }
  if (u.failure != carriers::failure_class::recipient_opted_out) co_return true;

  // The carrier says the recipient opted out: an opt-out of the message's sender.
  const std::string to_raw = m ? m->to : u.to;
  const std::string sender = m ? m->sender : owner_of(s, u.from);
  auto to = dnc::model::parse_phone(to_raw);
  if (!to || sender.empty()) {
    spdlog::warn(
        "status callback ({}): opt-out code for an unknown message or sender; recorded, not "
        "applied",
        carrier);
    co_return true;
  }
  const std::string source = "carrier:" + std::string(carrier);
  json::object orec{{"to", to->e164()}, {"sender", sender},         {"channel", "carrier"},
                    {"source", source}, {"at", format_rfc3339(at)}, {"status_evidence_id", ev->id}};
  if (m) orec["message_id"] = m->message_id;
  if (!u.error_code.empty()) orec["carrier_error_code"] = u.error_code;
  auto oev = co_await log.async_append(evidence::record_type::optout, std::move(orec));
  if (!oev) co_return false;
  if (!w->contacts) co_return false;
  auto stored = co_await w->contacts->async_record_optout(*to, sender, at, source, oev->id);
  if (!stored) co_return false;
  ++counters.optouts;
  co_return true;
}

asio::awaitable<response> handle(const http::request& req, evidence::log& log,
                                 status_counters& counters) {
  const auto& s = *req.settings;
  const auto name = http::carrier_from_path(req.path, prefix);
  const auto* c = name.empty() ? nullptr : s.carrier(name);
  if (!c) co_return response::json_error(404, "not_found", "no carrier by that name");
  // The signature first: an unsigned or forged request changes nothing.
  const auto vr = carriers::signature::verify_webhook(
      *c, http::to_webhook_request(req), std::chrono::system_clock::now(), req.loopback,
      std::chrono::seconds(s.http.replay_window_s));
  if (!vr) {
    ++counters.rejected_signature;
    co_return response::json_error(403, "forbidden", "bad or missing webhook signature");
  }
  auto u = carriers::parse_status(c->type, req.header("Content-Type"), req.body, req.query);
  if (!u) {
    if (u.error() == carriers::wire_errc::ignored_event) {
      ++counters.ignored;
      co_return response::text(200, "ignored\n");
    }
    ++counters.bad_request;
    co_return response::json_error(400, "bad_request", u.error().message());
  }
  auto* w = worker::current();
  if (!w || !w->redis) {
    ++counters.unavailable;
    co_return response::json_error(503, "store_unavailable", "Redis is not reachable");
  }
  message_store messages(*w->redis);
  auto claimed = co_await messages.async_claim_status(name, u->carrier_message_id, u->status);
  if (!claimed || *claimed == status_claim::busy) {
    ++counters.unavailable;
    auto r = response::json_error(503, "store_unavailable",
                                  claimed ? "being applied; retry" : "Redis is not reachable");
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  if (*claimed == status_claim::done) {
    ++counters.duplicates;
    co_return response::text(200, "duplicate\n");
  }
  const bool ok = co_await apply(s, name, *u, log, counters);
  auto ec = co_await messages.async_finish_status(name, u->carrier_message_id, u->status, ok);
  if (ec)
    spdlog::warn("status callback ({}): the dedupe marker could not be updated: {}", name,
                 ec.message());
  if (!ok) {
    ++counters.unavailable;
    auto r = response::json_error(503, "store_unavailable",
                                  "the update could not be made durable; retry");
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  ++counters.applied;
  co_return response::text(200, "ok\n");
}

}  // namespace

boost::system::error_code add_status_route(http::http_server& server, evidence::log& log,
                                           std::shared_ptr<status_counters> counters) {
  return server.add_route(
      http::beast_http::verb::post, std::string(prefix),
      [&log, counters](const http::request& req) { return handle(req, log, *counters); });
}

}  // namespace stopgate::gateway::send
