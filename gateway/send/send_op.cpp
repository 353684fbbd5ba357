#include "gateway/send/send_op.hpp"

#include "dnc/contacts/keys.hpp"
#include "dnc/policy/engine.hpp"
#include "gateway/ops/support.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/send/events.hpp"
#include "gateway/send/message_store.hpp"
#include "gateway/send/relay_call.hpp"
#include "gateway/queue/campaigns.hpp"
#include "gateway/queue/payload.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include <algorithm>

namespace stopgate::gateway::send {

namespace asio = boost::asio;
namespace json = boost::json;
using api::api_errc;
using api::op_error;
using api::op_result;
using boost::system::error_code;

using op_support::fail;
using op_support::now_us;
using op_support::reasons_json;

namespace {

json::object error_json(std::string_view code, std::string_view message) {
  return json::object{{"code", code}, {"message", message}};
}

json::array attempts_json(const carriers::relay::relay_result& rr) {
  json::array a;
  for (auto& t : rr.attempts) {
    json::object o{{"carrier", t.carrier},
                   {"try", t.try_number},
                   {"accepted", t.accepted},
                   {"request_sent", t.request_sent},
                   {"duration_us", t.duration.count()}};
    if (!t.error_code.empty()) o["error_code"] = t.error_code;
    if (!t.error_message.empty()) o["error_message"] = t.error_message;
    if (t.http_status) o["http_status"] = t.http_status;
    if (t.backoff.count()) o["backoff_ms"] = t.backoff.count();
    if (t.failure) o["failure"] = std::string(carriers::to_string(*t.failure));
    a.push_back(std::move(o));
  }
  return a;
}

// The number's facts, as `check` with commit=true reads them (fail closed on Redis).
asio::awaitable<dnc::model::number_facts> fetch_facts(dnc::contacts::contact_store& contacts,
                                               const dnc::contacts::fetch_item& item, dnc::model::sys_time at) {
  auto fetched = co_await contacts.async_fetch(std::span<const dnc::contacts::fetch_item>(&item, 1), at);
  dnc::model::number_facts facts;
  if (fetched && fetched->size() == 1)
    facts = std::move(fetched->front());
  else
    facts.available = false;
  co_return facts;
}

// Counts the contact toward the campaign's caps; nothing to do without a campaign.
asio::awaitable<error_code> count_contact(dnc::contacts::contact_store& contacts,
                                          const dnc::contacts::commit_item* item) {
  if (!item) co_return error_code{};
  co_return co_await contacts.async_commit_contact(*item);
}

// Nothing went out: a message record already written must not stay "accepted"/"submitting".
asio::awaitable<void> mark_failed(message_store& messages, message_record& m) {
  m.status = "failed";
  m.updated_at = now_us();
  if (auto ec = co_await messages.async_put(m))
    spdlog::warn("send {}: the message record could not be marked failed: {}", m.message_id,
                 ec.message());
}

}  // namespace

send_handler::send_handler(services svc, idempotency_options idem)
    : svc_(std::move(svc)), log_(*svc_.log), mirror_(*svc_.mirror), idem_(idem) {}

void send_handler::enable_queue(const queue::queue_store* q,
                                std::function<void(unsigned)> enqueued) {
  queue_ = q;
  enqueued_ = std::move(enqueued);
}

json::object decision_fields(const send_request& r, const dnc::policy::policy_decision& d) {
  json::object rec{
      {"to", r.to.e164()},
      {"sender", r.sender},
      {"channel", "sms"},
      {"purpose", r.purpose == config::purpose::marketing ? "marketing" : "informational"},
      {"campaign", r.campaign},
      {"at", format_rfc3339(r.at)},
      {"message_id", r.message_id},
      {"decision", std::string(dnc::policy::to_string(d.outcome))},
      {"reasons", reasons_json(d.reasons)}};
  if (!r.api_key.empty()) rec["api_key"] = r.api_key;
  if (!r.idempotency_key.empty()) rec["idempotency_key"] = r.idempotency_key;
  if (d.retry_at) rec["retry_at"] = format_rfc3339(*d.retry_at);
  if (d.consent_id) rec["consent_id"] = *d.consent_id;
  json::array lists;
  for (auto& l : d.lists)
    lists.push_back(json::object{{"name", l.name},
                                 {"generation", l.generation},
                                 {"snapshot", l.snapshot},
                                 {"listed", l.listed}});
  rec["lists"] = std::move(lists);
  rec["policy_version"] = d.policy_version;
  return rec;
}

std::vector<http::metric_family> send_handler::metric_families() const {
  using http::metric_family;
  using http::metric_type;
  metric_family sends{"stopgate_send_total", "send requests by outcome.", metric_type::counter, {}};
  auto add = [](metric_family& f, const char* label, const char* value,
                const std::atomic<std::uint64_t>& v) {
    f.samples.push_back({"", {{label, value}}, double(v.load())});
  };
  add(sends, "status", "sent", counters_.sent);
  add(sends, "status", "blocked", counters_.blocked);
  add(sends, "status", "deferred", counters_.deferred);
  add(sends, "status", "failed", counters_.failed);
  add(sends, "status", "replayed", counters_.replayed);
  metric_family cb{"stopgate_status_callbacks_total",
                   "Delivery-status callbacks by result.",
                   metric_type::counter,
                   {}};
  add(cb, "result", "applied", status_->applied);
  add(cb, "result", "duplicate", status_->duplicates);
  add(cb, "result", "bad_signature", status_->rejected_signature);
  add(cb, "result", "bad_request", status_->bad_request);
  add(cb, "result", "ignored", status_->ignored);
  add(cb, "result", "unavailable", status_->unavailable);
  std::vector<metric_family> out;
  out.push_back(std::move(sends));
  out.push_back(std::move(cb));
  out.push_back(metric_family{
      "stopgate_carrier_optouts_total",
      "Opt-outs from carrier send errors and status callbacks.",
      metric_type::counter,
      {{"", {}, double(counters_.carrier_optouts.load() + status_->optouts.load())}}});
  return out;
}

asio::awaitable<op_result> send_handler::async_send(const json::object& req,
                                                    const api::request_context& ctx) {
  ++counters_.requests;
  send_request r;
  r.rt = svc_.runtime();
  const auto& s = *r.rt->settings;
  // The same field decoder as the other ops (gateway/ops/support.hpp): the first problem is
  // the answer, naming its field.
  op_support::fields f(req);
  auto* to = f.str("to", true);
  const config::sender_settings* snd = op_support::resolve_sender(s, f, false, r.sender);
  auto* body = f.str("body", true);
  if (body && (body->empty() || body->size() > max_body_bytes))
    f.set("body: must be 1 to " + std::to_string(max_body_bytes) + " bytes");
  r.purpose = f.choice("purpose", {"marketing", "informational"}) == 0 ? config::purpose::marketing
                                                                        : config::purpose::informational;
  if (auto* c = f.str("campaign", false)) {
    r.campaign = std::string(*c);
    if (!dnc::contacts::contact_keys::valid_name(r.campaign))
      f.set("campaign: 1-64 bytes without spaces or control characters");
  }
  if (auto* c = f.str("carrier", false)) {
    if (!s.carrier(*c)) f.set("carrier: no carrier named '" + std::string(*c) + "' is configured");
    r.route.emplace_back(*c);
  }
  if (auto* k = f.str("idempotency_key", false)) {
    r.idempotency_key = std::string(*k);
    if (!valid_idempotency_key(r.idempotency_key))
      f.set("idempotency_key: 1-128 printable ASCII characters without spaces");
  }
  auto* from = f.str("from", false);
  const int mode = f.choice("mode", {"sync", "queue"});
  r.queue = req.contains("mode") ? mode == 1 : s.queue.default_mode == "queue";
  r.send_at = f.time("send_at", false);
  r.expires_at = f.time("expires_at", false);
  if (f.ok() && !r.queue && (r.send_at || r.expires_at))
    f.set(std::string(r.send_at ? "send_at" : "expires_at") +
          ": only with \"mode\": \"queue\" (a sync send goes out now or not at all)");
  if (f.ok() && r.queue && !queue_)
    f.set("mode: the queue is not available on this gateway");
  if (f.ok() && r.send_at && r.expires_at && *r.expires_at <= *r.send_at)
    f.set("expires_at: must be after send_at");
  if (f.ok() && snd) {
    // A sender sends only from the numbers it owns (their STOPs come back to it).
    if (from) {
      if (std::find(snd->numbers.begin(), snd->numbers.end(), std::string_view(*from)) ==
          snd->numbers.end())
        f.set("from: not a number of sender '" + snd->name + "'");
      r.from = std::string(*from);
    } else if (snd->numbers.empty()) {
      f.set("from: required (sender '" + snd->name + "' has no numbers)");
    } else {
      r.from = snd->numbers.front();
    }
    if (r.route.empty()) r.route = snd->route;
    if (r.route.empty()) f.set("carrier: required (sender '" + snd->name + "' has no route)");
  }
  if (!f.ok()) co_return f.failure();
  auto n = dnc::model::parse_phone(*to);
  if (!n) co_return fail(api_errc::invalid_number, "to: " + n.error().message());
  r.to = *n;
  r.body = std::string(*body);
  r.api_key = std::string(ctx.key_name);
  r.message_id = new_message_id();
  r.at = now_us();
  r.worker = ctx.worker;
  if (r.expires_at && *r.expires_at <= r.at)
    co_return fail(api_errc::bad_request, "expires_at: already past");
  // The message's record (which `forget` finds it by) lives 30 days.
  if (r.send_at && *r.send_at > r.at + message_ttl)
    co_return fail(api_errc::bad_request, "send_at: at most 30 days ahead");

  worker* w = &svc_.on(ctx.worker);
  if (!w->redis || !w->contacts)
    co_return fail(api_errc::store_unavailable, "the contact store is not reachable");

  const auto& engine = *r.rt->engine;
  dnc::contacts::fetch_item item;
  item.number = r.to;
  item.campaign = r.campaign;
  if (auto* cap = engine.cap_for(r.to, r.purpose); cap && !r.campaign.empty())
    item.window = std::chrono::hours(cap->window_hours);

  std::optional<idempotency> idem;
  dnc::model::number_facts facts;
  if (r.idempotency_key.empty()) {
    facts = co_await fetch_facts(*w->contacts, item, r.at);
  } else {
    // The claim and the fetch go out together (one round trip on this worker's connection).
    // The fetch writes nothing, so it is simply dropped unless the key was claimed at once;
    // a claim that had to wait reads the facts again, so they are never older than it.
    using namespace asio::experimental::awaitable_operators;
    idem.emplace(*w->redis, idem_);
    auto [c, prefetched] =
        co_await (idem->async_claim(r.sender, r.idempotency_key, r.message_id, r.at) &&
                  fetch_facts(*w->contacts, item, r.at));
    if (!c)
      co_return fail(api_errc::store_unavailable,
                     "the idempotency key could not be checked: " + c.error().message());
    switch (c->what) {
      case claim::kind::claimed:
        // (No co_await inside ?: — GCC 12 destroys the temporaries of such an expression
        // twice, which killed the gateway once the facts held a consent.)
        if (c->first_try)
          facts = std::move(prefetched);
        else
          facts = co_await fetch_facts(*w->contacts, item, r.at);
        break;
      case claim::kind::done:
        ++counters_.replayed;
        c->response["idempotent_replay"] = true;
        co_return std::move(c->response);
      case claim::kind::stale:
        ++counters_.failed;
        co_return json::object{
            {"status", "failed"},
            {"message_id", c->message_id},
            {"reasons", json::array{}},
            {"error",
             error_json(
                 "outcome_unknown",
                 "a gateway stopped while handling the first request with this key; its outcome "
                 "is unknown and it is never sent again")}};
      case claim::kind::in_progress:
        co_return json::object{
            {"status", "failed"},
            {"message_id", c->message_id},
            {"reasons", json::array{}},
            {"error",
             error_json(
                 "in_progress",
                 "the first request with this key is still being handled; ask again later")}};
    }
  }

  auto answer = co_await run(r, facts);
  if (idem) {
    // An outcome (even blocked or failed) is the key's answer for 24 h; a request that
    // ended without one releases the key so that the client's retry is handled afresh.
    // Stored only now: a repeat must not hear of the outcome before its `carrier_result`
    // record is durable.
    const json::object* outcome = answer ? &*answer : (r.outcome ? &*r.outcome : nullptr);
    error_code ec;
    if (outcome)
      ec = co_await idem->async_complete(r.sender, r.idempotency_key, *outcome);
    else
      ec = co_await idem->async_release(r.sender, r.idempotency_key, r.message_id);
    if (ec)
      spdlog::warn("send {}: the idempotency key could not be {}: {}", r.message_id,
                   outcome ? "completed (a repeat will answer outcome_unknown)" : "released",
                   ec.message());
  }
  co_return answer;
}

asio::awaitable<op_result> send_handler::async_send_batch(const json::object& req,
                                                          const api::request_context& ctx) {
  const auto* list = req.if_contains("messages");
  if (!list || !list->is_array() || list->get_array().empty() ||
      list->get_array().size() > max_batch_messages)
    co_return fail(api_errc::bad_request, "messages: required, an array of 1 to " +
                                              std::to_string(max_batch_messages) + " objects");
  const auto& items = list->get_array();
  // Each message: the request's fields as defaults, its own on top.
  std::vector<json::object> reqs;
  reqs.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object())
      co_return fail(api_errc::bad_request, "messages[" + std::to_string(i) + "]: must be an object");
    json::object one;
    for (const auto& [k, v] : req)
      if (k != "op" && k != "id" && k != "messages" && !k.starts_with(api::extension_prefix))
        one[k] = v;
    for (const auto& [k, v] : items[i].get_object())
      if (!k.starts_with(api::extension_prefix)) one[k] = v;
    reqs.push_back(std::move(one));
  }
  std::vector<json::value> results(reqs.size());
  auto ex = co_await asio::this_coro::executor;
  // Run them a window at a time: concurrent sends share fsyncs and Redis round trips.
  for (std::size_t first = 0; first < reqs.size(); first += batch_concurrency) {
    const std::size_t last = std::min(reqs.size(), first + batch_concurrency);
    auto left = std::make_shared<std::size_t>(last - first);
    asio::steady_timer done(ex, asio::steady_timer::time_point::max());
    for (std::size_t i = first; i < last; ++i) {
      asio::co_spawn(ex, async_send(reqs[i], ctx),
                     [&results, &done, left, i](std::exception_ptr e, op_result r) {
                       if (e)
                         results[i] = json::object{
                             {"error", json::object{{"code", "internal"},
                                                    {"message", "the send failed unexpectedly"}}}};
                       else if (r)
                         results[i] = std::move(*r);
                       else
                         results[i] = json::object{
                             {"error", json::object{{"code", api::to_string(r.error().code)},
                                                    {"message", r.error().message}}}};
                       if (--*left == 0) done.cancel();
                     });
    }
    // (A send that ends without waiting may complete before this wait starts.)
    while (*left > 0) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  json::array out;
  out.reserve(results.size());
  for (auto& v : results) out.push_back(std::move(v));
  co_return json::object{{"results", std::move(out)}};
}

asio::awaitable<op_result> send_handler::run(const send_request& r,
                                             const dnc::model::number_facts& facts) {
  const auto& engine = *r.rt->engine;
  auto snapshot = mirror_.current();
  dnc::policy::check_request cr;
  cr.to = r.to;
  cr.sender = r.sender;
  cr.ch = dnc::policy::channel::sms;
  cr.purpose = r.purpose;
  cr.campaign = r.campaign;
  cr.at = r.at;
  const auto d = engine.evaluate(cr, facts, *snapshot);
  json::object rec = decision_fields(r, d);

  const bool deny = d.outcome == dnc::policy::decision::deny;
  // A queued message is held through a defer (its window opens, its cap clears) unless the
  // calendar never opens within the engine's horizon: that one is answered as today.
  const bool queue_it = r.queue && !deny &&
                        (d.outcome == dnc::policy::decision::allow || d.retry_at.has_value());
  if (queue_it) co_return co_await enqueue(r, d, std::move(rec));
  if (d.outcome != dnc::policy::decision::allow) {
    rec["op"] = "send";
    auto ev = co_await log_.async_append(evidence::record_type::decision, std::move(rec));
    if (!ev)
      co_return fail(api_errc::internal,
                     "the evidence log could not record the decision: " + ev.error().message());
    ++(deny ? counters_.blocked : counters_.deferred);
    json::object out{{"status", deny ? "blocked" : "deferred"},
                     {"message_id", r.message_id},
                     {"reasons", reasons_json(d.reasons)},
                     {"evidence_id", ev->id}};
    if (d.retry_at) out["retry_at"] = format_rfc3339(*d.retry_at);
    co_return out;
  }
  co_return co_await async_deliver(r, std::move(rec), evidence::record_type::send);
}

asio::awaitable<op_result> send_handler::enqueue(const send_request& r,
                                                 const dnc::policy::policy_decision& d,
                                                 json::object rec) {
  worker* w = &svc_.on(r.worker);
  // Due when the rules and the caller both allow it; a hold names why.
  dnc::model::sys_time due = r.at;
  std::string state = "queued";
  if (d.outcome == dnc::policy::decision::defer) {
    due = *d.retry_at;
    state = "held|" + (d.reasons.empty() ? std::string("deferred") : d.reasons.front());
  }
  if (r.send_at && *r.send_at > due) {
    due = *r.send_at;
    state = "held|send_at";
  }
  queue::queued_payload p;
  p.to = r.to.e164();
  p.sender = r.sender;
  p.from = r.from;
  p.body = r.body;
  p.purpose = r.purpose;
  p.campaign = r.campaign;
  p.route = r.route;
  p.idempotency_key = r.idempotency_key;
  p.api_key = r.api_key;
  p.queued_at = r.at;
  p.send_at = r.send_at;
  p.expires_at = r.expires_at;

  rec["op"] = "send";
  rec["mode"] = "queue";
  rec["from"] = r.from;
  rec["body"] = r.body;  // sealed by the evidence log when evidence.encryption_key is set
  json::array route;
  for (auto& c : r.route) route.emplace_back(c);
  rec["route"] = std::move(route);
  rec["due"] = format_rfc3339(due);
  if (r.send_at) rec["send_at"] = format_rfc3339(*r.send_at);
  if (r.expires_at) rec["expires_at"] = format_rfc3339(*r.expires_at);
  if (state != "queued") rec["held"] = state.substr(5);

  message_store messages(*w->redis);
  message_record m{r.message_id, r.sender, r.to.e164(), r.from, r.route.front(), {},
                   "accepted",   r.at,     r.idempotency_key,
                   w->contacts->pseudonyms().tag(r.to), r.api_key};
  // The record and the message's Redis record together; the queue only after both, so that a
  // message never leaves the queue without its `queued` record on disk.
  using namespace asio::experimental::awaitable_operators;
  auto [ev, put_ec] = co_await (log_.async_append(evidence::record_type::queued, std::move(rec)) &&
                                messages.async_put(m));
  if (!ev)
    co_return fail(api_errc::internal, "the evidence log could not record the queued send; "
                                       "nothing was queued: " + ev.error().message());
  if (put_ec)
    co_return fail(api_errc::store_unavailable,
                   "the message could not be stored; nothing was queued: " + put_ec.message());
  p.queued_evidence_id = ev->id;
  if (!r.campaign.empty()) {
    // Listed under its campaign first, so that a resume or a cancel finds it.
    if (auto ec = co_await queue::campaign_store().async_queued(*w->redis, r.sender, r.campaign,
                                                               r.message_id)) {
      co_await mark_failed(messages, m);
      co_return fail(api_errc::store_unavailable,
                     "the campaign could not be updated; nothing was queued: " + ec.message());
    }
  }
  const auto due_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(due.time_since_epoch()).count();
  // With redis.min_replica_acks the enqueue waits for the replicas, as opt-outs do: a message
  // answered "queued" survives a failover.
  queue::replica_ack ack{w->acked_redis.get(), w->min_replica_acks, w->replica_ack_timeout};
  auto q = co_await queue_->async_enqueue(*w->redis, r.message_id, queue::encode(p), state, due_ms,
                                          &ack);
  // "duplicate": an earlier attempt of this very call landed (the cluster client resends after
  // a lost connection; ids are random), so the message is in the queue.
  bool in_queue = q && *q != queue::enqueue_result::full;
  if (!q) {
    // No answer: the script may have run. Take the message out again, or learn that a gateway
    // is already sending it; never answer "nothing queued" for a message that may go out.
    auto rm = co_await queue_->async_remove(*w->redis, r.message_id);
    if (!rm) {
      r.outcome = json::object{
          {"status", "failed"},
          {"message_id", r.message_id},
          {"reasons", json::array{}},
          {"error", error_json("outcome_unknown",
                               "Redis did not answer while the message was queued; it may be "
                               "sent (once)")}};
      co_return fail(api_errc::store_unavailable,
                     "Redis did not answer while the message was queued: it may be in the queue "
                     "(a repeat with the same idempotency key answers outcome_unknown): " +
                         q.error().message());
    }
    if (rm->what == queue::queue_store::removal::kind::submitting) in_queue = true;
  }
  if (!in_queue) {
    co_await mark_failed(messages, m);
    if (!q)
      co_return fail(api_errc::store_unavailable,
                     "the message could not be queued; nothing was queued: " + q.error().message());
    co_return fail(api_errc::overloaded, "the queue is full (queue.max_messages); nothing was queued");
  }
  ++counters_.queued;
  if (enqueued_) enqueued_(r.worker);
  {
    status_event e;
    e.message_id = r.message_id;
    e.status = "queued";
    e.at = format_rfc3339(r.at);
    e.campaign = r.campaign;
    co_await emit_event(*w->redis, r.api_key, e, r.rt->settings->sender(r.sender));
  }
  json::object out{{"status", "queued"},
                   {"message_id", r.message_id},
                   {"reasons", reasons_json(d.reasons)},
                   {"evidence_id", ev->id}};
  if (due > r.at) out["retry_at"] = format_rfc3339(due);
  co_return out;
}

asio::awaitable<op_result> send_handler::async_deliver(const send_request& r, json::object rec,
                                                       evidence::record_type type) {
  using namespace asio::experimental::awaitable_operators;
  worker* w = &svc_.on(r.worker);
  const auto& engine = *r.rt->engine;
  // Allowed: the send is provable before any carrier sees it.
  rec["from"] = r.from;
  rec["body"] = r.body;  // sealed by the evidence log when evidence.encryption_key is set
  json::array route;
  for (auto& c : r.route) route.emplace_back(c);
  rec["route"] = std::move(route);

  message_store messages(*w->redis);
  message_record m{r.message_id,
                   r.sender,
                   r.to.e164(),
                   r.from,
                   r.route.front(),
                   {},
                   "submitting",
                   r.at,
                   r.idempotency_key,
                   // Listed under the recipient's pseudonym, so that forget finds it.
                   w->contacts->pseudonyms().tag(r.to),
                   r.api_key};
  std::optional<dnc::contacts::commit_item> counted;
  if (!r.campaign.empty()) {
    auto& c = counted.emplace();
    c.number = r.to;
    c.campaign = r.campaign;
    c.at = r.at;
    auto* cap = engine.cap_for(r.to, r.purpose);
    c.window = std::chrono::hours(cap ? cap->window_hours : 24);
  }
  // The `send` record, the message record and the contact count are independent, and the
  // carrier call needs all three: they are written together (one fdatasync and one Redis
  // round trip on the critical path instead of three steps in a row).
  auto [ev, put_ec, count_ec] =
      co_await (log_.async_append(type, std::move(rec)) &&
                messages.async_put(m) &&
                count_contact(*w->contacts, counted ? &*counted : nullptr));
  if (!ev || put_ec || count_ec) {
    // Nothing was sent. A message record written meanwhile must not stay "submitting".
    if (!put_ec) co_await mark_failed(messages, m);
    if (!ev)
      co_return fail(api_errc::internal,
                     "the evidence log could not record the send; nothing was sent: " +
                         ev.error().message());
    if (put_ec)
      co_return fail(api_errc::store_unavailable,
                     "the message could not be stored; nothing was sent: " + put_ec.message());
    co_return fail(api_errc::store_unavailable,
                   "the contact could not be counted; nothing was sent: " + count_ec.message());
  }

  carriers::outbound_message msg;
  msg.to = m.to;
  msg.from = r.from;
  msg.body = r.body;
  msg.message_id = r.message_id;
  // The callback URL names one carrier, so it is only given when the route has one.
  if (const auto& pub = r.rt->settings->http.public_url; !pub.empty() && r.route.size() == 1)
    msg.status_callback_url = pub + "/v1/status/" + r.route.front();
  const auto rr = co_await async_relay(w->relay.get(), *r.rt->settings, r.route, std::move(msg));
  const bool sent = rr.status == carriers::relay::relay_status::sent;
  const bool opted_out = !sent && rr.failure == carriers::failure_class::recipient_opted_out;

  json::object out{{"status", sent ? "sent" : "failed"},
                   {"message_id", r.message_id},
                   {"reasons", json::array{}},
                   {"evidence_id", ev->id}};
  if (!rr.carrier.empty()) out["carrier"] = rr.carrier;
  if (!rr.carrier_message_id.empty()) out["carrier_message_id"] = rr.carrier_message_id;
  if (!sent) {
    const std::string code = rr.outcome_unknown ? "outcome_unknown"
                             : opted_out        ? "recipient_opted_out"
                                                : rr.error_code;
    out["error"] = error_json(code.empty() ? "carrier_failed" : code, rr.error_message);
    if (!rr.error_code.empty() && code != rr.error_code)
      out["error"].as_object()["carrier_code"] = rr.error_code;
  }

  json::object res{{"message_id", r.message_id},
                   {"to", r.to.e164()},
                   {"status", sent ? "sent" : "failed"},
                   {"carrier", rr.carrier},
                   {"carrier_message_id", rr.carrier_message_id},
                   {"carrier_status", rr.carrier_status},
                   {"outcome_unknown", rr.outcome_unknown}};
  if (rr.failure) res["failure"] = std::string(carriers::to_string(*rr.failure));
  if (!rr.error_code.empty()) res["error_code"] = rr.error_code;
  if (!rr.error_message.empty()) res["error_message"] = rr.error_message;
  res["attempts"] = attempts_json(rr);

  m.carrier = rr.carrier.empty() ? r.route.front() : rr.carrier;
  m.carrier_message_id = rr.carrier_message_id;
  m.status = sent ? "queued" : rr.outcome_unknown ? "unknown" : "failed";
  m.updated_at = now_us();
  // Both complete before the answer; neither depends on the other.
  auto [rev, update_ec] =
      co_await (log_.async_append(evidence::record_type::carrier_result, std::move(res)) &&
                messages.async_put(m));
  if (update_ec)
    spdlog::warn("send {}: the message store could not be updated: {}", r.message_id,
                 update_ec.message());
  {
    status_event e;
    e.message_id = r.message_id;
    e.status = sent ? "sent" : rr.outcome_unknown ? "unknown" : "failed";
    e.at = format_rfc3339(now_us());
    e.campaign = r.campaign;
    e.carrier = rr.carrier;
    if (!sent) e.error_code = rr.outcome_unknown ? "outcome_unknown" : opted_out ? "recipient_opted_out" : rr.error_code;
    co_await emit_event(*w->redis, r.api_key, e, r.rt->settings->sender(r.sender));
  }

  if (opted_out) {
    // The carrier says the recipient opted out: an opt-out of this sender, like a STOP.
    ++counters_.carrier_optouts;
    const std::string source = "carrier:" + rr.carrier;
    const auto at = now_us();
    json::object orec{{"to", r.to.e164()},        {"sender", r.sender},
                      {"channel", "carrier"},     {"source", source},
                      {"at", format_rfc3339(at)}, {"message_id", r.message_id}};
    if (!rr.error_code.empty()) orec["carrier_error_code"] = rr.error_code;
    auto oev = co_await log_.async_append(evidence::record_type::optout, std::move(orec));
    if (!oev) {
      spdlog::error("send {}: the carrier opt-out could not be recorded: {}", r.message_id,
                    oev.error().message());
    } else {
      auto stored = co_await w->contacts->async_record_optout(r.to, r.sender, at, source, oev->id);
      if (!stored)
        spdlog::error("send {}: the carrier opt-out could not be stored: {}", r.message_id,
                      stored.error().message());
    }
  }

  ++(sent ? counters_.sent : counters_.failed);
  if (!rev) {
    // The carrier has the message: a retry with the same key must not send it again.
    r.outcome = std::move(out);
    co_return fail(api_errc::internal,
                   "relayed, but the evidence log could not record the carrier's answer: " +
                       rev.error().message());
  }
  co_return out;
}

}  // namespace stopgate::gateway::send
