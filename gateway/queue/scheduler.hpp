// The queue's scheduler (docs/QUEUE.md): on every gateway thread a loop claims due messages of
// the shared queue, checks each again at that instant, and relays it, holds it until the rules
// allow it, or ends it (cancelled, expired, outcome_unknown) with evidence. Rate limits are
// booked across every gateway before the carrier request.
#pragma once

#include "gateway/http/prometheus.hpp"
#include "gateway/queue/campaigns.hpp"
#include "gateway/queue/payload.hpp"
#include "gateway/queue/store.hpp"
#include "gateway/send/send_op.hpp"
#include "gateway/services.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stopgate::gateway::queue {

struct scheduler_options {
  std::chrono::milliseconds poll{50};
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds submit_lease{180000};
  std::size_t max_in_flight = 256;  // per worker
  /// How far ahead a rate-limit slot may be booked (then the message waits in memory, under
  /// its lease); further ahead it goes back to the queue.
  std::chrono::milliseconds booking_horizon{2000};
  /// A message whose check could not read Redis (fail closed) is due again after this.
  std::chrono::milliseconds store_retry{1000};
  /// The instant checks at release are made at (tests inject one); default the system clock.
  std::function<dnc::model::sys_time()> clock;
  /// This gateway's name in claim tokens (server.instance).
  std::string instance = "gw";
};

/// Thread-safe counters for /metrics and `stats`.
struct scheduler_counters {
  std::atomic<std::uint64_t> released{0}, held{0}, cancelled{0}, expired{0}, unknown{0};
  std::atomic<std::uint64_t> rate_limited{0}, lease_lost{0}, store_errors{0};
  std::atomic<std::int64_t> depth{0};
  std::atomic<std::int64_t> oldest_due_ms{0};
};

class scheduler {
 public:
  scheduler(services svc, send::send_handler& sender, const queue_store& store,
            scheduler_options opts);
  ~scheduler();

  /// Starts a drain loop on every worker.
  void start();
  /// Wakes worker `index`'s loop (call on that worker's thread): a message was just queued.
  void wake(unsigned index);
  /// Stops claiming new messages (SIGTERM); what is being relayed goes on.
  void stop_claiming();
  /// Stops claiming; waits up to `grace` for the messages being relayed to finish (the rest
  /// end outcome_unknown after their lease, never sent twice).
  void stop(std::chrono::milliseconds grace);

  const scheduler_counters& counters() const noexcept { return counters_; }
  std::vector<http::metric_family> metric_families() const;

 private:
  struct per_worker;
  boost::asio::awaitable<void> drain_loop(per_worker& w);
  boost::asio::awaitable<void> process(per_worker& w, claimed_message m);
  boost::asio::awaitable<void> release(per_worker& w, claimed_message& m, const queued_payload& p);
  boost::asio::awaitable<void> end_unknown(per_worker& w, claimed_message& m,
                                           const queued_payload& p);
  boost::asio::awaitable<void> end_with(per_worker& w, claimed_message& m,
                                        const queued_payload& p, evidence::record_type type,
                                        boost::json::object rec, std::string_view status);
  std::vector<rate_limit> limits_for(const config::settings& s, const queued_payload& p) const;
  dnc::model::sys_time now() const;
  // Gives a message we hold back to the queue as due after `after` (nothing was sent).
  boost::asio::awaitable<void> retry_later(per_worker& w, const claimed_message& m,
                                           std::chrono::milliseconds after);
  // Counts a message that left the queue toward its campaign (when it has one).
  boost::asio::awaitable<void> count_end(per_worker& w, const claimed_message& m,
                                         const queued_payload& p, std::string_view outcome);

  services svc_;
  send::send_handler& sender_;
  const queue_store& store_;
  campaign_store campaigns_;
  scheduler_options opts_;
  scheduler_counters counters_;
  std::vector<std::unique_ptr<per_worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  mutable std::mutex stats_mu_;
  queue_stats last_stats_;  // sampled by worker 0 every 5 s, for /metrics
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace stopgate::gateway::queue
