// POST|GET /v1/inbound/{carrier}: verify, parse, claim the message id, apply, acknowledge.
#include "gateway/webhooks/service.hpp"

#include "carriers/signature/verify.hpp"
#include "carriers/wire/adapter.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/http/webhook.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/webhooks/carrier_number.hpp"
#include "gateway/webhooks/carrier_text.hpp"
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

std::string masked(const std::optional<dnc::model::phone_number>& n) {
  return n ? n->masked() : std::string("(not a number)");
}

// The label under which refusals for carrier names that are not configured are counted (a
// config name never holds parentheses).
constexpr std::string_view unknown_carrier_label = "(unknown)";

struct body_class {
  dnc::keywords::keyword_result result;
  bool latin1 = false;  // decided by the Latin-1 reading of a body that is not UTF-8
};

int opt_out_rank(dnc::keywords::keyword_class c) noexcept {
  return c == dnc::keywords::keyword_class::opt_out_all ? 2 : c == dnc::keywords::keyword_class::opt_out ? 1 : 0;
}

// The classifier reads bytes that are not UTF-8 as separators ("STOP\xFF" is STOP). A Latin-1
// body ("Arr\xEAt") reads right only with them as Latin-1 letters, so that reading is tried
// too, and an opt-out found by either one stands: an opt-out is never lost to an encoding.
body_class classify_body(const dnc::keywords::keyword_classifier& k, std::string_view body) {
  body_class out{k.classify(body), false};
  if (is_utf8(body)) return out;
  auto alt = k.classify(utf8_from_latin1_bytes(body));
  if (opt_out_rank(alt.cls) > opt_out_rank(out.result.cls)) out = {std::move(alt), true};
  return out;
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
  // An unknown name is refused like a bad signature, so carrier names cannot be probed for.
  if (!carrier) {
    counters_.signature_failure(unknown_carrier_label);
    spdlog::warn("inbound webhook from {} refused: no carrier of that name", req.peer.to_string());
    co_return http::webhook_refused();
  }

  // Authenticity before anything else: a refused webhook changes nothing.
  const auto wreq = http::to_webhook_request(req);
  const auto v = carriers::signature::verify_webhook(*carrier, wreq, opts_.clock(), req.loopback,
                                                     std::chrono::seconds(s->http.replay_window_s));
  if (!v) {
    counters_.signature_failure(carrier->name);
    spdlog::warn("inbound webhook from {} for carrier {} refused: {}", req.peer.to_string(),
                 carrier->name, v.error.message());
    co_return http::webhook_refused();
  }

  // Every message of the request (Bandwidth batches events, one per owned recipient).
  auto messages = carriers::parse_inbound(carrier->type, wreq.content_type, req.body, req.query);
  if (!messages && messages.error() == carriers::wire_errc::ignored_event) {
    counters_.inbound(carrier->name, "ignored");
    co_return acknowledge(carrier->type);
  }
  if (!messages) {
    counters_.inbound(carrier->name, "malformed");
    co_return http::response::json_error(400, "bad_request",
                                         "inbound webhook: " + messages.error().message());
  }

  // Each message is claimed and applied on its own; one that could not be is answered 503
  // after the others were applied (the carrier's retry finds those done).
  std::optional<applied> refused;
  for (const auto& m : *messages) {
    auto a = co_await apply(s, *carrier, m);
    counters_.inbound(carrier->name, a.outcome);
    if (!a.ok && !refused) refused = std::move(a);
  }
  if (refused) co_return unavailable(refused->outcome, refused->why);
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
  // Numbers read as the socket API reads them, with the carrier's default country: a number
  // that cannot be read without guessing its country keys nothing.
  const carrier_number from_n = read_carrier_number(m.from, carrier.default_country);
  const carrier_number to_n = read_carrier_number(m.to, carrier.default_country);
  const std::optional<dnc::model::phone_number> from =
      from_n.is_number() ? std::optional(from_n.number) : std::nullopt;
  const std::string& to = to_n.text;
  const config::sender_settings* sender = s->sender_for_number(to);
  const body_class kw = classify_body(classifiers_.get(s)->for_sender(sender), m.body);
  const std::string cls(dnc::keywords::to_string(kw.result.cls));

  // One delivery of a message id at a time, and each applied once (across gateways).
  const std::string key = message_key(carrier.name, to, m.carrier_message_id);
  const std::string token = random_hex("t_");
  auto claim = co_await store_.async_claim(redis, key, token);
  if (!claim) co_return applied{"unavailable", false, "Redis: " + claim.error().message()};
  if (*claim == claim_state::done) co_return applied{"duplicate", true, {}};
  if (*claim == claim_state::in_progress)
    co_return applied{"in_progress", false, "another delivery of this message is being applied"};

  // From here every failure gives the claim back, so the carrier's retry can apply it.
  auto failed = [&](std::string why) -> asio::awaitable<applied> {
    co_await store_.async_release(redis, key, token);
    spdlog::warn("inbound {} message from {} not applied: {}", carrier.name, masked(from), why);
    co_return applied{"unavailable", false, std::move(why)};
  };

  json::object rec{{"carrier", carrier.name},
                   {"carrier_type", std::string(config::to_string(carrier.type))},
                   {"sender", sender ? json::value(sender->name) : json::value(nullptr)},
                   {"class", cls},
                   {"match", std::string(dnc::keywords::to_string(kw.result.kind))},
                   {"matched", kw.result.matched},
                   {"received_at", format_rfc3339(at)}};
  // The carrier's own text is recorded losslessly (`<field>_b64` beside what is not UTF-8).
  put_text(rec, "carrier_message_id", m.carrier_message_id);
  put_number(rec, "from", m.from, from_n);
  put_number(rec, "to", m.to, to_n);
  put_text(rec, "body", m.body);
  if (kw.latin1) rec["body_reading"] = "latin1";
  if (!m.carrier_intent.empty()) put_text(rec, "carrier_intent", m.carrier_intent);

  const auto c = kw.result.cls;
  const bool opt_out =
      from && (c == dnc::keywords::keyword_class::opt_out || c == dnc::keywords::keyword_class::opt_out_all);
  const bool opt_in = from && sender && c == dnc::keywords::keyword_class::opt_in;
  // A STOP to a number no sender owns still stops everything: never lose an opt-out.
  const std::string scope = c == dnc::keywords::keyword_class::opt_out_all || !sender ? "*" : sender->name;
  const std::string source = "sms:" + carrier.name;

  // The inbound record and the record of its effect are one batch: one group commit, and the
  // effect's inbound_evidence_id filled in by the log (ids are known only in chain order).
  std::array<evidence::batch_record, 2> batch;
  std::size_t records = 1;
  batch[0] = {evidence::record_type::inbound, std::move(rec), {}, 0};
  if (opt_out) {
    json::object o{
        {"to", from->e164()},       {"sender", scope},
        {"channel", "sms"},         {"source", source},
        {"at", format_rfc3339(at)}, {"match", std::string(dnc::keywords::to_string(kw.result.kind))}};
    put_text(o, "carrier_message_id", m.carrier_message_id);
    put_text(o, "written_to", to);
    batch[records++] = {evidence::record_type::optout, std::move(o), "inbound_evidence_id", 0};
  } else if (opt_in) {
    // A keyword reply is prior express consent, not express written consent: it carries no
    // signed disclosure (rules.md 1.2), so marketing that needs PEWC stays blocked by policy.
    json::object o{{"to", from->e164()},  {"sender", sender->name},
                   {"kind", "express"},   {"captured_at", format_rfc3339(at)},
                   {"method", "keyword"}, {"keyword", kw.result.matched}};
    put_text(o, "carrier_message_id", m.carrier_message_id);
    batch[records++] = {evidence::record_type::optin, std::move(o), "inbound_evidence_id", 0};
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
    reply.from = to;
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
    auto facts = co_await contacts.async_fetch(std::span<const dnc::contacts::fetch_item>(&item, 1), at);
    bool blocked = !facts || facts->empty() || !(*facts)[0].available;
    if (!blocked)
      for (auto& o : (*facts)[0].optouts)
        if (o.sender == "*" || o.sender == sender->name) blocked = true;
    if (!blocked && !sender->optin_reply.empty()) make_reply("optin", sender->optin_reply);
  } else if (c == dnc::keywords::keyword_class::help && from && sender && !sender->help_reply.empty()) {
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
  // (No co_await inside ?: — GCC 12 destroys such an expression's temporaries twice.)
  boost::system::result<enqueue_state> fin = make_error_code(redis::errc::stopped);
  if (opt_out)
    fin = co_await store_.async_finish_optout(contacts, *from, scope, at, source, (*evs)[1].id,
                                              key, q);
  else
    fin = co_await store_.async_finish(redis, key, q);
  if (!fin) {
    std::string why = (opt_out ? "contact store: " : "Redis: ") + fin.error().message();
    co_return co_await failed(std::move(why));
  }
  if (opt_out)
    spdlog::info("opt-out of {} from {} via {} ({} match)", scope, from->masked(), carrier.name,
                 dnc::keywords::to_string(kw.result.kind));
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

  if (c == dnc::keywords::keyword_class::other && sender && !sender->forward_url.empty()) {
    json::object f{{"carrier", carrier.name},
                   {"sender", sender->name},
                   {"received_at", format_rfc3339(at)},
                   {"evidence_id", ev.id}};
    put_text(f, "carrier_message_id", m.carrier_message_id);
    put_text(f, "from", from_n.text);
    put_text(f, "to", to);
    put_text(f, "body", m.body);
    forward(*sender, json::serialize(f));
  }
  co_return applied{cls, true, {}};
}

}  // namespace stopgate::gateway::webhooks
