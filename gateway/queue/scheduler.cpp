#include "gateway/queue/scheduler.hpp"

#include "gateway/queue/release.hpp"
#include "gateway/ops/support.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/send/events.hpp"
#include "gateway/send/message_store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

namespace stopgate::gateway::queue {

namespace asio = boost::asio;
namespace json = boost::json;
using dnc::model::sys_time;

struct scheduler::per_worker {
  unsigned index = 0;
  gateway::worker* gw = nullptr;
  std::unique_ptr<asio::steady_timer> timer;
  bool woken = false;
  std::size_t in_flight = 0;
  std::size_t next_shard = 0;
  std::uint64_t claims = 0;
  std::string token_prefix;  // instance.worker.random: unique across gateways and restarts
  std::chrono::steady_clock::time_point last_depth{};
  std::uint64_t depth_samples = 0;
  std::set<std::string> numbers;  // recipients of the messages this thread is releasing
};

namespace {

// States passed as views, not literals: GCC 12 miscompiles string literals given to a
// function inside a co_await expression ("array used as initializer").
constexpr std::string_view st_queued = "queued";
constexpr std::string_view st_submitting = "submitting";
constexpr std::string_view st_gone = "";
constexpr std::string_view st_cancelled = "cancelled";
constexpr std::string_view st_expired = "expired";
constexpr std::string_view st_unknown = "unknown";
constexpr std::string_view st_paused = "held|campaign_paused";
constexpr std::string_view st_sent = "sent";
constexpr std::string_view st_failed = "failed";

std::int64_t to_ms(sys_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), int(raw.size())) != 1)
    for (auto& b : raw) b = static_cast<unsigned char>(std::rand());
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : raw) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// The request a queued message is released as: the payload, checked at `at` on `worker`.
std::optional<send::send_request> request_of(const queued_payload& p, const claimed_message& m,
                                             std::shared_ptr<const runtime_config> rt,
                                             unsigned worker, sys_time at) {
  auto to = dnc::model::parse_phone(p.to);
  if (!to) return std::nullopt;
  send::send_request r;
  r.rt = std::move(rt);
  r.to = *to;
  r.sender = p.sender;
  r.from = p.from;
  r.body = p.body;
  r.purpose = p.purpose;
  r.campaign = p.campaign;
  r.route = p.route;
  r.idempotency_key = p.idempotency_key;
  r.message_id = m.id;
  r.api_key = p.api_key;
  r.worker = worker;
  r.at = at;
  return r;
}

}  // namespace

scheduler::scheduler(services svc, send::send_handler& sender, const queue_store& store,
                     scheduler_options opts)
    : svc_(std::move(svc)), sender_(sender), store_(store), opts_(std::move(opts)) {
  const std::string run = random_hex(4);
  for (unsigned i = 0; i < svc_.workers.size(); ++i) {
    auto w = std::make_unique<per_worker>();
    w->index = i;
    w->gw = svc_.workers[i];
    w->token_prefix = opts_.instance + "." + std::to_string(i) + "." + run;
    workers_.push_back(std::move(w));
  }
}

scheduler::~scheduler() = default;

sys_time scheduler::now() const {
  return opts_.clock ? opts_.clock() : op_support::now_us();
}

void scheduler::start() {
  for (auto& w : workers_) asio::co_spawn(w->gw->io, drain_loop(*w), asio::detached);
}

void scheduler::wake(unsigned index) {
  if (index >= workers_.size()) return;
  auto& w = *workers_[index];
  w.woken = true;
  if (w.timer) w.timer->cancel();
}

void scheduler::stop_claiming() {
  stopping_.store(true);
}

void scheduler::stop(std::chrono::milliseconds grace) {
  if (stopped_.exchange(true)) return;
  stopping_.store(true);
  std::vector<std::future<void>> done;
  for (auto& w : workers_)
    done.push_back(asio::post(w->gw->io, asio::use_future([wp = w.get()] {
      if (wp->timer) wp->timer->cancel();
    })));
  for (auto& f : done) f.wait_for(std::chrono::seconds(2));
  const auto until = std::chrono::steady_clock::now() + grace;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (auto n = in_flight_.load(); n > 0)
    spdlog::warn("queue: {} message(s) still being relayed at shutdown: each ends sent or, after "
                 "its lease, outcome_unknown (never sent twice)",
                 n);
}

asio::awaitable<void> scheduler::drain_loop(per_worker& w) {
  w.timer = std::make_unique<asio::steady_timer>(w.gw->io);
  while (!stopping_.load()) {
    w.woken = false;
    bool more = false;
    redis::client* c = w.gw->redis.get();
    // Nothing is released while this worker's contact cache saw Redis lose contact-store
    // changes (opt-outs may be missing until a rebuild): readiness says so too.
    if (c && c->connected() && w.gw->contacts && !w.gw->contacts_data_lost.load()) {
      const auto shards = store_.shards(*c);
      // Worker 0 samples the queue for /metrics: its depth every second, its states (every
      // message's) every 5 s.
      if (w.index == 0 && std::chrono::steady_clock::now() - w.last_depth >= std::chrono::seconds(1)) {
        w.last_depth = std::chrono::steady_clock::now();
        if (++w.depth_samples % 5 == 1) {
          if (auto st = co_await store_.async_stats(*c)) {
            counters_.depth.store(st->depth);
            std::lock_guard lock(stats_mu_);
            last_stats_ = std::move(*st);
          }
        } else if (auto d = co_await store_.async_depth(*c)) {
          counters_.depth.store(*d);
        }
      }
      for (std::size_t i = 0; i < shards.size() && w.in_flight < opts_.max_in_flight; ++i) {
        const auto& shard = shards[(w.next_shard + i) % shards.size()];
        const std::size_t room = std::min<std::size_t>(opts_.max_in_flight - w.in_flight, 128);
        const auto now_ms = to_ms(op_support::now_us());
        const std::string token = w.token_prefix + "." + std::to_string(++w.claims);
        auto got = co_await store_.async_claim(*c, shard, now_ms, room,
                                               now_ms + opts_.lease.count(), token);
        if (!got) {
          ++counters_.store_errors;
          break;
        }
        if (got->size() == room) more = true;
        for (auto& m : *got) {
          ++w.in_flight;
          ++in_flight_;
          asio::co_spawn(w.gw->io, process(w, std::move(m)), asio::detached);
        }
      }
      w.next_shard = (w.next_shard + 1) % std::max<std::size_t>(1, shards.size());
    }
    if ((more && w.in_flight < opts_.max_in_flight) || w.woken) continue;
    w.timer->expires_after(opts_.poll);
    co_await w.timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> scheduler::process(per_worker& w, claimed_message m) {
  auto p = decode(m.payload);
  if (!p) {
    spdlog::error("queue: message {} has an unreadable payload; removed", m.id);
    co_await store_.async_move(*w.gw->redis, m.shard, m.id, m.token, st_gone, 0);
  } else if (m.kind == claimed_kind::unknown) {
    co_await end_unknown(w, m, *p);
  } else {
    co_await release(w, m, *p);
  }
  --w.in_flight;
  --in_flight_;
  // Room again: look for more at once rather than after the poll interval.
  if (w.in_flight + 1 == opts_.max_in_flight) wake(w.index);
}

asio::awaitable<void> scheduler::end_with(per_worker& w, claimed_message& m,
                                          const queued_payload& p, evidence::record_type type,
                                          json::object rec, std::string_view status) {
  rec["message_id"] = m.id;
  rec["to"] = p.to;
  rec["sender"] = p.sender;
  if (!p.campaign.empty()) rec["campaign"] = p.campaign;
  rec["queued_evidence_id"] = p.queued_evidence_id;
  rec["at"] = format_rfc3339(now());
  auto ev = co_await svc_.log->async_append(type, std::move(rec));
  if (!ev) {
    // Without its record the message stays ours until the lease runs out; then it is due
    // again and the next claimant tries again.
    spdlog::error("queue: message {}: the {} record could not be written: {}", m.id,
                  evidence::to_string(type), ev.error().message());
    co_return;
  }
  send::message_store messages(*w.gw->redis);
  if (auto up = co_await messages.async_update_status(m.id, status, op_support::now_us()); !up)
    spdlog::warn("queue: message {}: status {} not stored: {}", m.id, status, up.error().message());
  auto moved = co_await store_.async_move(*w.gw->redis, m.shard, m.id, m.token, st_gone, 0);
  if (!moved) {
    spdlog::warn("queue: message {}: not removed from the queue: {}", m.id,
                 moved.error().message());
  } else if (!*moved) {
    // Its lease ran out meanwhile and another gateway ended it: that one counts and tells.
    co_return;
  }
  co_await count_end(w, m, p, status);
  send::status_event e;
  e.message_id = m.id;
  e.status = std::string(status);
  e.at = format_rfc3339(now());
  e.campaign = p.campaign;
  if (status == st_unknown) e.error_code = "outcome_unknown";
  auto rt = svc_.runtime();
  co_await send::emit_event(*w.gw->redis, p.api_key, e, rt->settings->sender(p.sender));
}

asio::awaitable<void> scheduler::retry_later(per_worker& w, const claimed_message& m,
                                             std::chrono::milliseconds after) {
  co_await store_.async_move(*w.gw->redis, m.shard, m.id, m.token, st_queued,
                             to_ms(op_support::now_us()) + after.count());
}

asio::awaitable<void> scheduler::count_end(per_worker& w, const claimed_message& m,
                                           const queued_payload& p, std::string_view outcome) {
  if (p.campaign.empty()) co_return;
  if (auto ec = co_await campaigns_.async_ended(*w.gw->redis, p.sender, p.campaign, m.id, outcome,
                                                to_ms(op_support::now_us())))
    spdlog::warn("queue: message {}: campaign counters not updated: {}", m.id, ec.message());
}

asio::awaitable<void> scheduler::end_unknown(per_worker& w, claimed_message& m,
                                             const queued_payload& p) {
  ++counters_.unknown;
  json::object rec{{"status", "failed"},
                   {"outcome_unknown", true},
                   {"error_code", "outcome_unknown"},
                   {"error_message",
                    "the gateway relaying it stopped after the carrier request began; it is never "
                    "sent again"}};
  co_await end_with(w, m, p, evidence::record_type::carrier_result, std::move(rec), st_unknown);
}

asio::awaitable<void> scheduler::release(per_worker& w, claimed_message& m,
                                         const queued_payload& p) {
  auto& redis = *w.gw->redis;
  auto rt = svc_.runtime();
  const sys_time at = now();
  auto r = request_of(p, m, rt, w.index, at);
  if (!r) {
    ++counters_.cancelled;
    json::object why{{"reason", "invalid_number"}};
    co_await end_with(w, m, p, evidence::record_type::cancelled, std::move(why), st_cancelled);
    co_return;
  }
  // The configuration may have changed since it was queued (a reload): a sender, number or
  // route no longer configured holds the message (checked again every 5 minutes) rather than
  // ending it, so that a mistaken reload loses nothing.
  {
    const auto* snd = rt->settings->sender(p.sender);
    std::string_view why;
    if (!snd)
      why = "held|sender_unknown";
    else if (std::find(snd->numbers.begin(), snd->numbers.end(), p.from) == snd->numbers.end())
      why = "held|from_unknown";
    else {
      std::erase_if(r->route, [&](const std::string& c) { return !rt->settings->carrier(c); });
      if (r->route.empty()) why = "held|carrier_unknown";
    }
    if (!why.empty()) {
      ++counters_.held;
      spdlog::warn("queue: message {} of sender {} held: {} (configuration)", m.id, p.sender,
                   why.substr(5));
      co_await store_.async_move(redis, m.shard, m.id, m.token, why,
                                 to_ms(op_support::now_us()) + 300'000);
      co_return;
    }
  }
  // One message per number at a time on this thread: two due together (a window opening)
  // would otherwise read the same frequency counters and both be allowed.
  if (!w.numbers.insert(p.to).second) {
    co_await retry_later(w, m, std::chrono::milliseconds(200));
    co_return;
  }
  struct number_guard {
    std::set<std::string>& set;
    std::string n;
    ~number_guard() { set.erase(n); }
  } guard{w.numbers, p.to};

  // A paused campaign's messages wait (resume makes them due at once; an hourly look in case
  // a resume is missed); a cancelled campaign's are cancelled with evidence.
  if (!p.campaign.empty()) {
    auto cs = co_await campaigns_.async_state(redis, p.sender, p.campaign);
    if (!cs) {
      ++counters_.store_errors;
      co_await retry_later(w, m, opts_.store_retry);
      co_return;
    }
    if (*cs == campaign_state::paused) {
      ++counters_.held;
      co_await store_.async_move(redis, m.shard, m.id, m.token, st_paused,
                                 to_ms(op_support::now_us()) + 3'600'000);
      co_return;
    }
    if (*cs == campaign_state::cancelled) {
      ++counters_.cancelled;
      json::object why{{"reason", "campaign_cancelled"}};
      co_await end_with(w, m, p, evidence::record_type::cancelled, std::move(why), st_cancelled);
      co_return;
    }
  }

  // The check at release: the same facts and engine as a committed check, at this instant.
  // It is made again after a rate-limit wait of more than 50 ms, so that nothing that arrived
  // meanwhile (an opt-out) is missed.
  const auto& engine = *rt->engine;
  dnc::policy::policy_decision d;
  release_step step;
  bool booked_already = false;
  for (;;) {
    r->at = now();
    dnc::contacts::fetch_item item;
    item.number = r->to;
    item.campaign = r->campaign;
    if (auto* cap = engine.cap_for(r->to, r->purpose); cap && !r->campaign.empty())
      item.window = std::chrono::hours(cap->window_hours);
    auto fetched = co_await w.gw->contacts->async_fetch(
        std::span<const dnc::contacts::fetch_item>(&item, 1), r->at);
    if (!fetched || fetched->size() != 1 || !fetched->front().available) {
      // Fail closed: not sent now, due again shortly.
      ++counters_.store_errors;
      co_await retry_later(w, m, opts_.store_retry);
      co_return;
    }
    auto snapshot = svc_.mirror->current();
    dnc::policy::check_request cr;
    cr.to = r->to;
    cr.sender = r->sender;
    cr.ch = dnc::policy::channel::sms;
    cr.purpose = r->purpose;
    cr.campaign = r->campaign;
    cr.at = r->at;
    d = engine.evaluate(cr, fetched->front(), *snapshot);
    step = plan_release(p, d, r->at);
    if (step.action != release_action::send || booked_already) break;
    // Rate limits shared by every gateway: book a slot, wait for it under the lease.
    const auto limits = limits_for(*rt->settings, p);
    if (limits.empty()) break;
    const auto now_us = op_support::now_us().time_since_epoch().count();
    // Wait in memory for at most half the lease, so the claim is still ours after the wait.
    const auto horizon = std::min<std::chrono::milliseconds>(opts_.booking_horizon, opts_.lease / 2);
    auto booked = co_await store_.async_book(
        redis, limits, now_us,
        std::chrono::duration_cast<std::chrono::microseconds>(horizon).count());
    if (!booked) {
      ++counters_.store_errors;
      co_await retry_later(w, m, opts_.store_retry);
      co_return;
    }
    if (*booked < 0) {
      ++counters_.rate_limited;
      co_await retry_later(w, m, std::chrono::milliseconds(-*booked / 1000 + 1));
      co_return;
    }
    if (*booked <= 50'000) break;  // sent within 50 ms of its check
    asio::steady_timer t(w.gw->io);
    t.expires_after(std::chrono::microseconds(*booked));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    booked_already = true;  // check again, then send in the slot just reached
  }

  switch (step.action) {
    case release_action::expire: {
      ++counters_.expired;
      json::object rec{{"reason", step.reason}, {"expires_at", format_rfc3339(*p.expires_at)}};
      co_await end_with(w, m, p, evidence::record_type::expired, std::move(rec), st_expired);
      co_return;
    }
    case release_action::cancel: {
      // The decision that cancels it is evidence of its own, like any check's.
      auto rec = send::decision_fields(*r, d);
      rec["op"] = "send";
      rec["stage"] = "release";
      auto dev = co_await svc_.log->async_append(evidence::record_type::decision, std::move(rec));
      if (!dev) {
        spdlog::error("queue: message {}: the decision record could not be written: {}", m.id,
                      dev.error().message());
        co_return;  // due again after the lease
      }
      ++counters_.cancelled;
      json::array reasons;
      for (auto& x : d.reasons) reasons.emplace_back(x);
      json::object why{{"reason", "decision"},
                       {"reasons", std::move(reasons)},
                       {"decision_evidence_id", dev->id}};
      co_await end_with(w, m, p, evidence::record_type::cancelled, std::move(why), st_cancelled);
      co_return;
    }
    case release_action::hold: {
      ++counters_.held;
      const std::string held = "held|" + step.reason;
      co_await store_.async_move(redis, m.shard, m.id, m.token, held, to_ms(step.until));
      co_return;
    }
    case release_action::send:
      break;
  }

  // From here the carrier request may go out: a lease that runs out now ends the message
  // outcome_unknown, never sent again. A claim we no longer hold is left to its new holder.
  // With redis.min_replica_acks the mark waits for the replicas: a failover cannot bring the
  // message back as due after its carrier request went out.
  queue::replica_ack ack{w.gw->acked_redis.get(), w.gw->min_replica_acks, w.gw->replica_ack_timeout};
  auto ours = co_await store_.async_move(
      redis, m.shard, m.id, m.token, st_submitting,
      to_ms(op_support::now_us()) + opts_.submit_lease.count(), &ack);
  if (!ours || !*ours) {
    ++(ours ? counters_.lease_lost : counters_.store_errors);
    if (ours)
      spdlog::warn("queue: message {}: the lease ran out before it was relayed; left to its new "
                   "holder",
                   m.id);
    else
      co_await retry_later(w, m, opts_.store_retry);
    co_return;
  }
  auto rec = send::decision_fields(*r, d);
  rec["queued_evidence_id"] = p.queued_evidence_id;
  auto answer = co_await sender_.async_deliver(*r, std::move(rec), evidence::record_type::released);
  if (!answer && !r->outcome) {
    // Nothing went to a carrier (its record or its Redis record failed): due again.
    ++counters_.store_errors;
    spdlog::warn("queue: message {}: not relayed ({}); due again", m.id, answer.error().message);
    co_await retry_later(w, m, opts_.store_retry);
    co_return;
  }
  ++counters_.released;
  auto moved = co_await store_.async_move(redis, m.shard, m.id, m.token, st_gone, 0);
  if (!moved)
    spdlog::warn("queue: message {}: relayed but not removed from the queue ({}); after its lease "
                 "it ends outcome_unknown",
                 m.id, moved.error().message());
  else if (!*moved)
    co_return;  // its submit lease ran out first: another gateway ended it (and counted it)
  const json::object* outcome = answer ? &*answer : &*r->outcome;
  const auto* st = outcome->if_contains("status");
  const bool sent = st && st->is_string() && st->get_string() == "sent";
  co_await count_end(w, m, p, sent ? st_sent : st_failed);
}

std::vector<rate_limit> scheduler::limits_for(const config::settings& s,
                                              const queued_payload& p) const {
  std::vector<rate_limit> out;
  auto add = [&](std::string key, std::uint32_t per_second, std::uint32_t per_minute) {
    if (per_second)
      out.push_back({"{sg:rl}:" + key + ":s", std::int64_t(1'000'000 / per_second)});
    if (per_minute)
      out.push_back({"{sg:rl}:" + key + ":m", std::int64_t(60'000'000 / per_minute)});
  };
  if (const auto* c = s.carrier(p.route.front()))
    add("carrier:" + c->name, c->rate_per_second, c->rate_per_minute);
  if (const auto* snd = s.sender(p.sender))
    add("from:" + p.from, snd->rate_per_number_per_second, snd->rate_per_number_per_minute);
  if (!p.campaign.empty())
    add("campaign:" + p.sender + ":" + p.campaign, s.queue.campaign_rate_per_second,
        s.queue.campaign_rate_per_minute);
  return out;
}

std::vector<http::metric_family> scheduler::metric_families() const {
  using http::metric_family;
  using http::metric_type;
  metric_family depth{"stopgate_queue_depth", "Messages in the durable queue, every state.",
                      metric_type::gauge, {{"", {}, double(counters_.depth.load())}}};
  metric_family events{"stopgate_queue_events_total",
                       "What this gateway's scheduler did with due messages.",
                       metric_type::counter,
                       {}};
  auto add = [&](const char* v, const std::atomic<std::uint64_t>& n) {
    events.samples.push_back({"", {{"event", v}}, double(n.load())});
  };
  add("released", counters_.released);
  add("held", counters_.held);
  add("cancelled", counters_.cancelled);
  add("expired", counters_.expired);
  add("outcome_unknown", counters_.unknown);
  add("rate_limited", counters_.rate_limited);
  add("lease_lost", counters_.lease_lost);
  add("store_error", counters_.store_errors);
  metric_family states{"stopgate_queue_messages",
                       "Messages in the durable queue by state (held ones by reason), sampled every 5 s.",
                       metric_type::gauge,
                       {}};
  metric_family age{"stopgate_queue_oldest_due_age_seconds",
                    "How long ago the earliest due message in the queue came due (0 when none "
                    "is overdue), sampled every 5 s.",
                    metric_type::gauge,
                    {}};
  {
    std::lock_guard lock(stats_mu_);
    for (const auto& sc : last_stats_.states) {
      const auto colon = sc.state.find(':');
      if (colon == std::string::npos)
        states.samples.push_back({"", {{"state", sc.state}}, double(sc.count)});
      else
        states.samples.push_back({"",
                                  {{"state", sc.state.substr(0, colon)},
                                   {"reason", sc.state.substr(colon + 1)}},
                                  double(sc.count)});
    }
    double overdue = 0;
    if (last_stats_.oldest_due_ms) {
      const auto now_ms = to_ms(op_support::now_us());
      overdue = std::max<double>(0, double(now_ms - last_stats_.oldest_due_ms) / 1000.0);
    }
    age.samples.push_back({"", {}, overdue});
  }
  std::vector<http::metric_family> out;
  out.push_back(std::move(depth));
  out.push_back(std::move(events));
  out.push_back(std::move(states));
  out.push_back(std::move(age));
  return out;
}

}  // namespace stopgate::gateway::queue
