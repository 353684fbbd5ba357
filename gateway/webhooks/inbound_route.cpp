// POST|GET /v1/inbound/{carrier}: verify, parse, claim the message id, apply, acknowledge.
#include "gateway/webhooks/service.hpp"

#include "carriers/bandwidth/wire.hpp"
#include "carriers/signature/verify.hpp"
#include "carriers/wire/adapter.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/http/webhook.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <array>
#include <optional>
#include <random>
#include <span>

namespace stopgate::gateway::webhooks {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view route_prefix = "/v1/inbound/";

std::string random_hex(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (std::uint64_t(std::random_device{}()) << 32)};
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(prefix);
  std::uint64_t v = rng();
  for (int i = 0; i < 16; ++i, v >>= 4) s += hex[v & 15];
  return s;
}

// What the carrier gets on success: TwiML / Plivo XML where the carrier reads XML replies.
http::response acknowledge(config::carrier_type t) {
  if (t == config::carrier_type::twilio || t == config::carrier_type::plivo) {
    http::response r;
    r.content_type = "text/xml; charset=utf-8";
    r.body = "<Response></Response>";
    return r;
  }
  return http::response::json(200, R"({"ok":true})");
}

http::response unavailable(std::string_view code, std::string_view why) {
  auto r = http::response::json_error(503, code, why);
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

std::string masked(std::string_view number) {
  auto n = dnc::model::parse_phone(number);
  return n ? n->masked() : std::string("(unparsable)");
}

}  // namespace

struct service::applied {
  std::string outcome;  // keyword class, or duplicate / in_progress / unavailable
  bool ok = false;      // durable (or already applied): acknowledge
  std::string why;
};

asio::awaitable<http::response> service::handle(const http::request& req) {
  auto s = settings_();
  const auto name = http::carrier_from_path(req.path, route_prefix);
  const config::carrier_settings* carrier = name.empty() ? nullptr : s->carrier(name);
  if (!carrier)
    co_return http::response::json_error(404, "not_found", "no carrier of that name is configured");

  // Authenticity before anything else: a refused webhook changes nothing.
  const auto wreq = http::to_webhook_request(req);
  const auto v = carriers::signature::verify_webhook(*carrier, wreq, opts_.clock(), req.loopback,
                                                     std::chrono::seconds(s->http.replay_window_s));
  if (!v) {
    counters_.signature_failure(carrier->name);
    spdlog::warn("inbound webhook from {} for carrier {} refused: {}", req.peer.to_string(),
                 carrier->name, v.error.message());
    co_return http::response::json_error(403, "forbidden",
                                         "webhook signature: " + v.error.message());
  }

  // Bandwidth may batch several events (one per owned recipient of a group message).
  std::vector<carriers::inbound_message> messages;
  boost::system::error_code perr;
  if (carrier->type == config::carrier_type::bandwidth) {
    auto r = carriers::bandwidth::parse_inbound_events(wreq.content_type, req.body);
    if (r)
      messages = std::move(*r);
    else
      perr = r.error();
  } else {
    auto r = carriers::parse_inbound(carrier->type, wreq.content_type, req.body, req.query);
    if (r)
      messages.push_back(std::move(*r));
    else
      perr = r.error();
  }
  if (perr == carriers::wire_errc::ignored_event) {
    counters_.inbound(carrier->name, "ignored");
    co_return acknowledge(carrier->type);
  }
  if (perr) {
    counters_.inbound(carrier->name, "malformed");
    co_return http::response::json_error(400, "bad_request", "inbound webhook: " + perr.message());
  }

  for (const auto& m : messages) {
    auto a = co_await apply(s, *carrier, m);
    counters_.inbound(carrier->name, a.outcome);
    if (!a.ok) co_return unavailable(a.outcome, a.why);
  }
  co_return acknowledge(carrier->type);
}

asio::awaitable<service::applied> service::apply(const config::settings_ptr& s,
                                                 const config::carrier_settings& carrier,
                                                 const carriers::inbound_message& m) {
  auto* w = worker::current();
  if (!w || !w->redis || !w->contacts)
    co_return applied{"unavailable", false, "the contact store is not ready (Redis unreachable)"};
  auto& redis = *w->redis;
  auto& contacts = *w->contacts;

  const auto now = opts_.clock();
  const auto at = std::chrono::time_point_cast<std::chrono::microseconds>(now);
  const config::sender_settings* sender = s->sender_for_number(m.to);
  const auto kw = classifiers_.get(s)->for_sender(sender).classify(m.body);
  const std::string cls(dnc::keywords::to_string(kw.cls));
  const auto from = dnc::model::parse_phone(m.from);

  // One delivery of a message id at a time, and each applied once (across gateways).
  const std::string key = message_key(carrier.name, m.to, m.carrier_message_id);
  const std::string token = random_hex("t_");
  auto claim = co_await store_.async_claim(redis, key, token);
  if (!claim) co_return applied{"unavailable", false, "Redis: " + claim.error().message()};
  if (*claim == claim_state::done) co_return applied{"duplicate", true, {}};
  if (*claim == claim_state::in_progress)
    co_return applied{"in_progress", false, "another delivery of this message is being applied"};

  // From here every failure gives the claim back, so the carrier's retry can apply it.
  auto failed = [&](std::string why) -> asio::awaitable<applied> {
    co_await store_.async_release(redis, key, token);
    spdlog::warn("inbound {} message from {} not applied: {}", carrier.name, masked(m.from), why);
    co_return applied{"unavailable", false, std::move(why)};
  };

  json::object rec{{"carrier", carrier.name},
                   {"carrier_type", std::string(config::to_string(carrier.type))},
                   {"carrier_message_id", m.carrier_message_id},
                   {"from", from ? from->e164() : m.from},
                   {"to", m.to},
                   {"sender", sender ? json::value(sender->name) : json::value(nullptr)},
                   {"class", cls},
                   {"match", std::string(dnc::keywords::to_string(kw.kind))},
                   {"matched", kw.matched},
                   {"body", m.body},
                   {"received_at", format_rfc3339(at)}};
  if (!m.carrier_intent.empty()) rec["carrier_intent"] = m.carrier_intent;
  if (!from) rec["from_invalid"] = from.error().message();

  const bool opt_out = from && (kw.cls == dnc::keywords::keyword_class::opt_out ||
                                kw.cls == dnc::keywords::keyword_class::opt_out_all);
  const bool opt_in = from && sender && kw.cls == dnc::keywords::keyword_class::opt_in;
  // A STOP to a number no sender owns still stops everything: never lose an opt-out.
  const std::string scope =
      kw.cls == dnc::keywords::keyword_class::opt_out_all || !sender ? "*" : sender->name;
  const std::string source = "sms:" + carrier.name;

  // The inbound record and the record of its effect are one batch: one group commit, and the
  // effect's inbound_evidence_id filled in by the log (ids are known only in chain order).
  std::array<evidence::batch_record, 2> batch;
  std::size_t records = 1;
  batch[0] = {evidence::record_type::inbound, std::move(rec), {}, 0};
  if (opt_out) {
    batch[records++] = {evidence::record_type::optout,
                        json::object{{"to", from->e164()},
                                     {"sender", scope},
                                     {"channel", "sms"},
                                     {"source", source},
                                     {"at", format_rfc3339(at)},
                                     {"carrier_message_id", m.carrier_message_id},
                                     {"written_to", m.to},
                                     {"match", std::string(dnc::keywords::to_string(kw.kind))}},
                        "inbound_evidence_id", 0};
  } else if (opt_in) {
    // A keyword reply is prior express consent, not express written consent: it carries no
    // signed disclosure (rules.md 1.2), so marketing that needs PEWC stays blocked by policy.
    batch[records++] = {evidence::record_type::optin,
                        json::object{{"to", from->e164()},
                                     {"sender", sender->name},
                                     {"kind", "express"},
                                     {"captured_at", format_rfc3339(at)},
                                     {"method", "keyword"},
                                     {"keyword", kw.matched},
                                     {"carrier_message_id", m.carrier_message_id}},
                        "inbound_evidence_id", 0};
  }
  // The records are durable before anything changes in Redis: an opt-out in the store always
  // names evidence on disk. The opt-out itself is then written together with the finish.
  auto evs = co_await log_.async_append_batch(std::span(batch.data(), records));
  if (!evs) {
    std::string why = "evidence log: " + evs.error().message();
    co_return co_await failed(std::move(why));
  }
  const evidence::appended& ev = (*evs)[0];

  reply_item reply;
  std::string marker;
  auto make_reply = [&](std::string_view kind, const std::string& body) {
    reply.id = random_hex("r_");
    reply.kind = std::string(kind);
    reply.carrier = carrier.name;
    reply.sender = sender->name;
    reply.from = m.to;
    reply.to = from->e164();
    reply.body = body;
    reply.inbound_evidence_id = ev.id;
    reply.created_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    reply.deadline_ms = reply.created_ms + opts_.reply_budget.count();
  };

  if (opt_out) {
    if (sender && !sender->optout_reply.empty()) {
      make_reply("optout", sender->optout_reply);
      marker = marker_key(from->e164(), sender->name);
    }
  } else if (opt_in) {
    dnc::contacts::consent_record c;
    c.fact.sender = sender->name;
    c.fact.kind = dnc::model::consent_kind::express;
    c.fact.captured_at = at;
    c.fact.evidence_id = (*evs)[1].id;
    c.source.method = "keyword";
    c.source.proof = "evidence:" + ev.id;
    auto r = co_await contacts.async_record_optin(*from, c);
    if (!r) {
      std::string why = "contact store: " + r.error().message();
      co_return co_await failed(std::move(why));
    }
    // Confirm only when nothing still blocks the number (a STOPALL is not lifted by START).
    const dnc::contacts::fetch_item item{*from, {}, std::nullopt};
    auto facts =
        co_await contacts.async_fetch(std::span<const dnc::contacts::fetch_item>(&item, 1), at);
    bool blocked = !facts || facts->empty() || !(*facts)[0].available;
    if (!blocked)
      for (auto& o : (*facts)[0].optouts)
        if (o.sender == "*" || o.sender == sender->name) blocked = true;
    if (!blocked && !sender->optin_reply.empty()) make_reply("optin", sender->optin_reply);
  } else if (kw.cls == dnc::keywords::keyword_class::help && from && sender &&
             !sender->help_reply.empty()) {
    make_reply("help", sender->help_reply);
  }

  reply_to_queue q;
  if (!reply.id.empty()) {
    q.id = reply.id;
    q.due_ms = reply.created_ms;
    q.payload = encode_reply(reply);
    q.marker = marker;
  }
  // An opt-out, its reply and `done` in one script: the carrier's retry finds either nothing
  // applied (and applies it all) or all of it.
  auto fin = opt_out ? co_await store_.async_finish_optout(contacts, *from, scope, at, source,
                                                           (*evs)[1].id, key, q)
                     : co_await store_.async_finish(redis, key, q);
  if (!fin) {
    std::string why = (opt_out ? "contact store: " : "Redis: ") + fin.error().message();
    co_return co_await failed(std::move(why));
  }
  if (opt_out)
    spdlog::info("opt-out of {} from {} via {} ({} match)", scope, from->masked(), carrier.name,
                 dnc::keywords::to_string(kw.kind));
  switch (*fin) {
    case enqueue_state::queued:
      wake_local();
      break;
    case enqueue_state::suppressed:
      counters_.reply(reply.kind, "suppressed");
      break;
    case enqueue_state::full:
      counters_.reply(reply.kind, "dropped");
      spdlog::error("reply queue full ({} items): {} reply to {} dropped",
                    store_.options().max_queue, reply.kind, from->masked());
      break;
    default:
      break;
  }

  if (kw.cls == dnc::keywords::keyword_class::other && sender && !sender->forward_url.empty()) {
    json::object f{{"carrier", carrier.name},
                   {"carrier_message_id", m.carrier_message_id},
                   {"from", from ? from->e164() : m.from},
                   {"to", m.to},
                   {"sender", sender->name},
                   {"body", m.body},
                   {"received_at", format_rfc3339(at)},
                   {"evidence_id", ev.id}};
    forward(*sender, json::serialize(f));
  }
  co_return applied{cls, true, {}};
}

}  // namespace stopgate::gateway::webhooks
