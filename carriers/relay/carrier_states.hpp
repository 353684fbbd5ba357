// The protection state of every carrier, shared by all worker threads so that each limit
// holds for the whole process: a token bucket (rate_per_second, burst = rate), a concurrency
// limit (max_in_flight, with a FIFO of waiters on any thread), a circuit breaker, the
// counters behind /metrics, and the sandbox's outbox file.
//
//   auto states = std::make_shared<carrier_states>();
//   states->configure(settings);           // at start and on every reload (keeps state)
//   auto st = states->get(*settings.carrier("twilio"));
//   if (st->try_enter_circuit(now)) ...     // the relay drives the rest (relay.cpp)
#pragma once

#include "carriers/relay/breaker.hpp"
#include "carriers/relay/outbox.hpp"
#include "carriers/relay/relay.hpp"
#include "carriers/relay/token_bucket.hpp"
#include "config/settings.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::carriers::relay {

/// How one call (HTTP request or outbox append) ended, for the counters.
enum class call_result { accepted, retryable, permanent, opted_out };

/// One carrier's shared state. Thread-safe: every member may be called from any thread.
class carrier_state {
 public:
  using clock = std::chrono::steady_clock;

  carrier_state(const config::carrier_settings& s, clock::time_point now);
  carrier_state(const carrier_state&) = delete;
  carrier_state& operator=(const carrier_state&) = delete;

  const std::string& name() const noexcept { return name_; }
  config::carrier_type type() const noexcept { return type_; }

  /// Takes the limits of `s` (same name and type: a reload). Raising max_in_flight wakes
  /// as many waiters as there are new slots.
  void update(const config::carrier_settings& s);

  /// The circuit breaker's try_acquire; a refusal is counted as skipped_open. A true must be
  /// followed by finish_call or abandon.
  bool try_enter_circuit(clock::time_point now);
  /// The token bucket's reserve (see token_bucket.hpp).
  std::optional<clock::duration> reserve_token(clock::time_point now, clock::duration max_wait);

  /// A send waiting for a concurrency slot. The timer runs on the waiter's own executor; a
  /// releasing thread hands the slot over (granted = true) and cancels the timer through
  /// that executor, so the waiter wakes on its own thread.
  struct slot_waiter {
    explicit slot_waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
    bool granted = false;  // guarded by the carrier_state's mutex
  };
  /// Takes a slot if one is free and nobody is queued for one.
  bool try_acquire_slot();
  /// As try_acquire_slot, but queues `w` when no slot is free (false): the caller then waits
  /// on w->timer up to its deadline and calls finish_wait.
  bool acquire_or_enqueue(const std::shared_ptr<slot_waiter>& w);
  /// After waiting: true when a slot was handed to `w`; otherwise `w` leaves the queue.
  bool finish_wait(const std::shared_ptr<slot_waiter>& w);
  /// Takes `w` out of the queue unless a slot was already handed to it (its owner is
  /// stopping); the owner still calls finish_wait when it wakes.
  void withdraw(const std::shared_ptr<slot_waiter>& w);
  /// Frees a slot, or hands it to the longest waiter.
  void release_slot();

  /// Ends a call that passed the circuit: counts it, records its latency and tells the
  /// breaker (`breaker_failure`: the carrier is failing, e.g. 5xx, timeout, 401).
  void finish_call(call_result r, bool breaker_failure, clock::duration latency,
                   clock::time_point now);
  /// Ends a call that passed the circuit without a verdict (stopped before calling).
  void abandon();
  /// Gave up on a rate or concurrency limit before the deadline: abandon() and count it.
  void abandon_limited();

  /// The sandbox's outbox (null for other types).
  std::shared_ptr<outbox> outbox_file() const;

  carrier_counters counters(clock::time_point now) const;

  /// Upper bounds (seconds) of the call latency histogram.
  static constexpr std::array<double, 13> latency_bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,   0.25,   0.5,   1,    2.5,   5,   10};

 private:
  void wake_locked(std::vector<std::shared_ptr<slot_waiter>>& woken);
  static void wake(std::vector<std::shared_ptr<slot_waiter>>& woken);

  const std::string name_;
  const config::carrier_type type_;
  mutable std::mutex mu_;
  std::uint32_t max_in_flight_;
  std::uint32_t in_flight_ = 0;
  std::deque<std::shared_ptr<slot_waiter>> waiters_;
  token_bucket bucket_;
  circuit_breaker breaker_;
  std::shared_ptr<outbox> outbox_;
  carrier_counters counts_;
  std::array<std::uint64_t, latency_bounds.size() + 1> latency_hits_{};  // not cumulative
};

/// Every configured carrier's state, by name. Thread-safe.
class carrier_states {
 public:
  carrier_states();
  ~carrier_states();

  /// Takes the carriers of `s`: a carrier whose name and type remain keeps its state (tokens,
  /// slots, breaker, counters) with the new limits; others start fresh; removed ones go
  /// (sends still running on them finish normally).
  void configure(const config::settings& s);

  /// The state of carrier `s`. A carrier configure() has not seen (a send racing a reload)
  /// gets a fresh state of its own that is not kept.
  std::shared_ptr<carrier_state> get(const config::carrier_settings& s) const;

  /// Counters of every configured carrier, by name.
  std::vector<carrier_counters> counters() const;

 private:
  using map = std::map<std::string, std::shared_ptr<carrier_state>, std::less<>>;
  mutable std::mutex mu_;
  std::shared_ptr<const map> carriers_;
};

}  // namespace stopgate::carriers::relay
