#include "gateway/send/status_route.hpp"

#include "gateway/send/events.hpp"

#include "carriers/wire/adapter.hpp"
#include "gateway/http/webhook.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/send/message_store.hpp"
#include "gateway/webhooks/carrier_number.hpp"
#include "gateway/webhooks/carrier_text.hpp"

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

// What identifies one update for the dedupe: its status and, when the callback names one,
// its recipient (a Bandwidth group message has one id and an event per recipient).
std::string update_identity(const carriers::status_update& u, const webhooks::carrier_number& to) {
  return to.text.empty() ? u.status : u.status + ":" + to.text;
}

// Applies one fresh update; false when something could not be made durable.
asio::awaitable<bool> apply(worker& w, const config::settings& s, const config::carrier_settings& c,
                            const carriers::status_update& u, evidence::log& log,
                            status_counters& counters) {
  const std::string_view carrier = c.name;
  // The callback's numbers, read as the inbound webhooks read them (carrier default country).
  const auto u_to = webhooks::read_carrier_number(u.to, c.default_country);
  const auto u_from = webhooks::read_carrier_number(u.from, c.default_country);
  message_store messages(*w.redis);
  auto id = co_await messages.async_find(carrier, u.carrier_message_id);
  if (!id) co_return false;
  std::optional<message_record> m;
  if (*id) {
    auto got = co_await messages.async_get(**id);
    if (!got) co_return false;
    m = std::move(*got);
  }
  const auto at = now_us();
  json::object rec{{"carrier", carrier}, {"status", u.status}, {"at", format_rfc3339(at)}};
  // The carrier's text is recorded losslessly (`<field>_b64` beside what is not UTF-8).
  webhooks::put_text(rec, "carrier_message_id", u.carrier_message_id);
  webhooks::put_text(rec, "raw_status", u.raw_status);
  if (m) {
    rec["message_id"] = m->message_id;
    rec["sender"] = m->sender;
    rec["to"] = m->to;
    rec["from"] = m->from;
  } else {
    if (!u.to.empty()) webhooks::put_number(rec, "to", u.to, u_to);
    if (!u.from.empty()) webhooks::put_number(rec, "from", u.from, u_from);
  }
  if (!u.error_code.empty()) webhooks::put_text(rec, "error_code", u.error_code);
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
    status_event e;
    e.message_id = m->message_id;
    e.status = u.status;
    e.at = format_rfc3339(at);
    e.carrier = std::string(carrier);
    e.error_code = u.error_code;
    co_await emit_event(*w.redis, m->api_key, e, s.sender(m->sender));
  }
  if (u.failure != carriers::failure_class::recipient_opted_out) co_return true;

  // The carrier says the recipient opted out: an opt-out of the message's sender.
  const std::string sender = m ? m->sender : owner_of(s, u_from.text);
  // The message's recipient as we sent it (E.164), else the callback's, read as above.
  std::optional<dnc::model::phone_number> to;
  if (m) {
    if (auto n = dnc::model::parse_phone(m->to)) to = *n;
  } else if (u_to.is_number()) {
    to = u_to.number;
  }
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
  if (!u.error_code.empty()) webhooks::put_text(orec, "carrier_error_code", u.error_code);
  auto oev = co_await log.async_append(evidence::record_type::optout, std::move(orec));
  if (!oev) co_return false;
  if (!w.contacts) co_return false;
  auto stored = co_await w.contacts->async_record_optout(*to, sender, at, source, oev->id);
  if (!stored) co_return false;
  ++counters.optouts;
  co_return true;
}

// One update: dedupe claim, apply, finish. The answer it asks for.
enum class update_outcome { applied, duplicate, unavailable };

asio::awaitable<update_outcome> claim_and_apply(worker& w, const config::settings& s,
                                                const config::carrier_settings& c,
                                                const carriers::status_update& u,
                                                evidence::log& log, status_counters& counters) {
  message_store messages(*w.redis);
  const std::string identity =
      update_identity(u, webhooks::read_carrier_number(u.to, c.default_country));
  auto claimed = co_await messages.async_claim_status(c.name, u.carrier_message_id, identity);
  if (!claimed || *claimed == status_claim::busy) {
    ++counters.unavailable;
    co_return update_outcome::unavailable;
  }
  if (*claimed == status_claim::done) {
    ++counters.duplicates;
    co_return update_outcome::duplicate;
  }
  const bool ok = co_await apply(w, s, c, u, log, counters);
  auto ec = co_await messages.async_finish_status(c.name, u.carrier_message_id, identity, ok);
  if (ec)
    spdlog::warn("status callback ({}): the dedupe marker could not be updated: {}", c.name,
                 ec.message());
  if (!ok) {
    ++counters.unavailable;
    co_return update_outcome::unavailable;
  }
  ++counters.applied;
  co_return update_outcome::applied;
}

asio::awaitable<response> handle(const http::request& req, const services& svc,
                                 status_counters& counters) {
  evidence::log& log = *svc.log;
  const auto& s = *req.settings;
  // The signature first: an unsigned or forged request changes nothing. An unknown name is
  // refused like a bad signature, so carrier names cannot be probed for.
  const auto front = http::verify_front(req, s, prefix, std::chrono::system_clock::now());
  if (!front.carrier) {
    ++counters.rejected_signature;
    spdlog::warn("status callback from {} for carrier {} refused: {}", req.peer.to_string(),
                 front.label, front.why);
    co_return http::webhook_refused();
  }
  const config::carrier_settings* c = front.carrier;
  // Every update of the request (Bandwidth batches events; a Sinch batch report lists
  // several recipients).
  auto updates = carriers::parse_status(c->type, req.header("Content-Type"), req.body, req.query);
  if (!updates) {
    if (updates.error() == carriers::wire_errc::ignored_event) {
      ++counters.ignored;
      co_return response::text(200, "ignored\n");
    }
    ++counters.bad_request;
    co_return response::json_error(400, "bad_request", updates.error().message());
  }
  worker& w = svc.on(req.worker);
  if (!w.redis) {
    ++counters.unavailable;
    co_return response::json_error(503, "store_unavailable", "Redis is not reachable");
  }
  // Each update is claimed, recorded and applied on its own; one that could not be is
  // answered 503 after the others were applied (the carrier's retry finds those done).
  bool unavailable = false, fresh = false;
  for (const auto& u : *updates) {
    auto o = co_await claim_and_apply(w, s, *c, u, log, counters);
    unavailable |= o == update_outcome::unavailable;
    fresh |= o == update_outcome::applied;
  }
  if (unavailable) {
    auto r = response::json_error(503, "store_unavailable",
                                  "an update could not be made durable, or is being applied; "
                                  "retry");
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  co_return response::text(200, fresh ? "ok\n" : "duplicate\n");
}

}  // namespace

boost::system::error_code add_status_route(http::http_server& server, services svc,
                                           std::shared_ptr<status_counters> counters) {
  return server.add_route(http::beast_http::verb::post, std::string(prefix),
                          [svc = std::move(svc), counters](const http::request& req) {
                            return handle(req, svc, *counters);
                          });
}

}  // namespace stopgate::gateway::send
