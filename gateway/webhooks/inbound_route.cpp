// POST|GET /v1/inbound/{carrier}: verify, parse, then per message: plan (inbound_plan.hpp),
// claim the message id, write the evidence, apply the effect, finish; acknowledge.
#include "gateway/webhooks/service.hpp"

#include "carriers/dialect.hpp"
#include "carriers/wire/adapter.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/http/webhook.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/webhooks/carrier_text.hpp"
#include "gateway/webhooks/inbound_plan.hpp"
#include "gateway/webhooks/worker_state.hpp"
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

// What the carrier gets on success: its dialect's answer (TwiML / Plivo XML where the carrier
// reads XML replies, else JSON).
http::response acknowledge(config::carrier_type t) {
  const carriers::webhook_ack& ack = carriers::dialect_of(t).inbound_ack;
  http::response r;
  r.content_type = std::string(ack.content_type);
  r.body = std::string(ack.body);
  return r;
}

http::response unavailable(std::string_view code, std::string_view why) {
  auto r = http::response::json_error(503, code, why);
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

std::string masked(const std::optional<dnc::model::phone_number>& n) {
  return n ? n->masked() : std::string("(not a number)");
}

}  // namespace

struct service::applied {
  std::string outcome;  // keyword class, or duplicate / in_progress / unavailable
  bool ok = false;      // durable (or already applied): acknowledge
  std::string why;
};

asio::awaitable<http::response> service::handle(const http::request& req) {
  auto s = settings_();
  // Authenticity before anything else: a refused webhook changes nothing. An unknown name is
  // refused like a bad signature, so carrier names cannot be probed for.
  const auto front = http::verify_front(req, *s, route_prefix, opts_.clock());
  if (!front.carrier) {
    counters_.signature_failure(front.label);
    spdlog::warn("inbound webhook from {} for carrier {} refused: {}", req.peer.to_string(),
                 front.label, front.why);
    co_return http::webhook_refused();
  }
  const config::carrier_settings* carrier = front.carrier;
  const auto& wreq = front.request;

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
  per_worker& w = *workers_.at(req.worker);
  for (const auto& m : *messages) {
    auto a = co_await apply(w, s, *carrier, m);
    counters_.inbound(carrier->name, a.outcome);
    if (!a.ok && !refused) refused = std::move(a);
  }
  if (refused) co_return unavailable(refused->outcome, refused->why);
  co_return acknowledge(carrier->type);
}

asio::awaitable<service::applied> service::apply(per_worker& w, const config::settings_ptr& s,
                                                 const config::carrier_settings& carrier,
                                                 const carriers::inbound_message& m) {
  if (!w.gw->redis || !w.gw->contacts)
    co_return applied{"unavailable", false, "the contact store is not ready (Redis unreachable)"};
  auto& redis = *w.gw->redis;
  auto& contacts = *w.gw->contacts;

  const auto now = opts_.clock();
  const auto at = std::chrono::time_point_cast<std::chrono::microseconds>(now);
  inbound_plan p = plan_inbound(*s, carrier, m, *classifiers_.get(s), at);
  const bool opt_out = p.effect == inbound_effect::opt_out;
  // Every key of the message shares the home of its number (one Redis Cluster slot).
  const std::string home = home_of(contacts, p.from);
  const std::string claim_key = message_key(home, carrier.name, p.to, m.carrier_message_id);

  // One delivery of a message id at a time, and each applied once (across gateways).
  const std::string token = random_hex("t_");
  auto claim = co_await store_.async_claim(redis, claim_key, token);
  if (!claim) co_return applied{"unavailable", false, "Redis: " + claim.error().message()};
  if (*claim == claim_state::done) co_return applied{"duplicate", true, {}};
  if (*claim == claim_state::in_progress)
    co_return applied{"in_progress", false, "another delivery of this message is being applied"};

  // From here every failure gives the claim back, so the carrier's retry can apply it.
  auto failed = [&](std::string why) -> asio::awaitable<applied> {
    co_await store_.async_release(redis, claim_key, token);
    spdlog::warn("inbound {} message from {} not applied: {}", carrier.name, masked(p.from), why);
    co_return applied{"unavailable", false, std::move(why)};
  };

  // The inbound record and the record of its effect are one batch: one group commit, and the
  // effect's inbound_evidence_id filled in by the log (ids are known only in chain order).
  // The records are durable before anything changes in Redis: an opt-out in the store always
  // names evidence on disk. The opt-out itself is then written together with the finish.
  auto evs = co_await log_.async_append_batch(std::span(p.records));
  if (!evs) {
    std::string why = "evidence log: " + evs.error().message();
    co_return co_await failed(std::move(why));
  }
  const evidence::appended& ev = (*evs)[0];

  bool reply_wanted = !p.reply.kind.empty();
  if (p.effect == inbound_effect::opt_in) {
    dnc::contacts::consent_record c;
    c.fact.sender = p.sender->name;
    c.fact.kind = dnc::model::consent_kind::express;
    c.fact.captured_at = at;
    c.fact.evidence_id = (*evs)[1].id;
    c.source.method = "keyword";
    c.source.proof = "evidence:" + ev.id;
    auto r = co_await contacts.async_record_optin(*p.from, c);
    if (!r) {
      std::string why = "contact store: " + r.error().message();
      co_return co_await failed(std::move(why));
    }
    if (reply_wanted && p.reply.only_if_unblocked) {
      const dnc::contacts::fetch_item item{*p.from, {}, std::nullopt};
      auto facts =
          co_await contacts.async_fetch(std::span<const dnc::contacts::fetch_item>(&item, 1), at);
      bool blocked = !facts || facts->empty() || !(*facts)[0].available;
      if (!blocked)
        for (auto& o : (*facts)[0].optouts)
          if (o.sender == "*" || o.sender == p.sender->name) blocked = true;
      reply_wanted = !blocked;
    }
  }

  reply_item reply;
  reply_to_queue q;
  if (reply_wanted) {
    reply.id = random_hex("r_");
    reply.kind = p.reply.kind;
    reply.carrier = carrier.name;
    reply.sender = p.sender->name;
    reply.from = p.to;
    reply.to = p.from->e164();
    reply.body = p.reply.body;
    reply.inbound_evidence_id = ev.id;
    reply.created_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    reply.deadline_ms = reply.created_ms + opts_.reply_budget.count();
    q.id = reply.id;
    q.due_ms = reply.created_ms;
    q.payload = encode_reply(reply);
    if (p.reply.marker) q.marker = marker_key(home, reply.to, reply.sender);
  }
  // An opt-out, its reply and `done` in one script: the carrier's retry finds either nothing
  // applied (and applies it all) or all of it.
  // (No co_await inside ?: — GCC 12 destroys such an expression's temporaries twice.)
  boost::system::result<enqueue_state> fin = make_error_code(redis::errc::stopped);
  if (opt_out)
    fin = co_await store_.async_finish_optout(contacts, *p.from, p.scope, at, p.source,
                                              (*evs)[1].id, home, claim_key, q);
  else
    fin = co_await store_.async_finish(redis, home, claim_key, q);
  if (!fin) {
    std::string why = (opt_out ? "contact store: " : "Redis: ") + fin.error().message();
    co_return co_await failed(std::move(why));
  }
  if (opt_out)
    spdlog::info("opt-out of {} from {} via {} ({} match)", p.scope, p.from->masked(),
                 carrier.name, p.match);
  switch (*fin) {
    case enqueue_state::queued:
      wake_local(w);
      break;
    case enqueue_state::suppressed:
      counters_.reply(reply.kind, "suppressed");
      break;
    case enqueue_state::full:
      counters_.reply(reply.kind, "dropped");
      spdlog::error("reply queue full ({} items): {} reply to {} dropped",
                    store_.options().max_queue, reply.kind, p.from->masked());
      break;
    default:
      break;
  }

  if (p.forward) {
    json::object f{{"carrier", carrier.name},
                   {"sender", p.sender->name},
                   {"received_at", format_rfc3339(at)},
                   {"evidence_id", ev.id}};
    put_text(f, "carrier_message_id", m.carrier_message_id);
    put_text(f, "from", p.from_text);
    put_text(f, "to", p.to);
    put_text(f, "body", m.body);
    forward(w, *p.sender, json::serialize(f));
  }
  co_return applied{p.cls, true, {}};
}

}  // namespace stopgate::gateway::webhooks
