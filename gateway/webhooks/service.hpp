// Inbound STOP webhooks (SPEC sections 4 and 6; docs/WEBHOOKS.md): the route
// POST|GET /v1/inbound/{carrier}, the effects of each keyword class, the durable reply
// queue's drainers, and forwarding of `other` messages.
//
//   webhooks::service wh(evidence, [&] { return app.current()->settings; }, sender, workers);
//   wh.register_routes(http_server);      // before http_server.start()
//   wh.start();                           // one drainer per worker
//   ...
//   wh.stop();                            // before the worker threads stop
//
// Request coroutines and drainers run on the gateway's worker threads and use the Redis
// connection and contact store of the worker they run on (handed in: `workers`, in the HTTP
// server's loop order; http::request::worker names a request's).
#pragma once

#include "config/load.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/webhooks/classifiers.hpp"
#include "gateway/webhooks/counters.hpp"
#include "gateway/webhooks/inbound_store.hpp"
#include "gateway/webhooks/reply.hpp"
#include "gateway/worker.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stopgate::carriers {
struct inbound_message;
}
namespace stopgate::carriers::http {
class client;
}

namespace stopgate::gateway::webhooks {

struct service_options {
  /// Wall clock for signatures' replay windows, opt-out times and reply deadlines.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// How often an idle drainer looks for due replies (a new reply also wakes its worker's).
  std::chrono::milliseconds poll_interval{200};
  /// On a Redis Cluster: how often worker 0 sweeps every slot's reply queue into the index
  /// (inbound_store::async_sweep), the bound on how long a reply a race left out of the
  /// index waits.
  std::chrono::milliseconds sweep_interval{10000};
  /// A reply not sent this long after the inbound message is given up (SPEC: 5 minutes).
  std::chrono::milliseconds reply_budget{300000};
  /// Retry backoff of a reply: the time since the message came in, clamped to these.
  std::chrono::milliseconds retry_min{2000};
  std::chrono::milliseconds retry_max{60000};
  /// Replies being sent at once per worker.
  std::size_t max_sends_in_flight = 16;
  /// Forwarding `other` messages to forward_url: attempts and per-attempt timeout.
  unsigned forward_attempts = 3;
  std::chrono::milliseconds forward_timeout{5000};
  std::chrono::milliseconds forward_backoff{1000};
  /// TLS verification for forward_url (tests with self-signed servers turn it off).
  bool forward_verify_tls = true;
  inbound_store_options store;
};

using settings_provider = std::function<config::settings_ptr()>;

class service {
 public:
  /// `settings` returns the configuration in force (called per request and per drain).
  /// `send` delivers a reply (the carrier relay in the gateway). `workers`: one per event
  /// loop of the HTTP server, in its order. The log and the workers must outlive the service.
  service(evidence::log& log, settings_provider settings, reply_sender send,
          std::vector<gateway::worker*> workers, service_options opts = {});
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Adds POST and GET /v1/inbound/ to the server (before its start()).
  boost::system::error_code register_routes(http::http_server& server);

  /// Starts one drainer per worker, on its loop. Call once.
  void start();

  /// Stops the drainers and forwarders and waits (bounded) until each worker acknowledged.
  /// Thread-safe; call from outside the worker threads, while they still run. Idempotent.
  void stop();

  /// The inbound families for /metrics (thread-safe, no I/O).
  std::vector<http::metric_family> metric_families() const { return counters_.families(); }
  const webhooks::counters& stats() const noexcept { return counters_; }

  /// The route handler (public for tests that call it without a server).
  boost::asio::awaitable<http::response> handle(const http::request& req);

 private:
  struct per_worker;
  struct applied;

  // inbound_route.cpp
  boost::asio::awaitable<applied> apply(per_worker& w, const config::settings_ptr& s,
                                        const config::carrier_settings& carrier,
                                        const carriers::inbound_message& m);
  // drainer.cpp
  boost::asio::awaitable<void> drain_loop(per_worker& w);
  boost::asio::awaitable<void> send_one(per_worker& w, claimed_reply item);
  void wake_local(per_worker& w);
  // forwarder.cpp
  void forward(per_worker& w, const config::sender_settings& sender, std::string payload);

  std::int64_t now_ms() const;

  evidence::log& log_;
  settings_provider settings_;
  reply_sender send_;
  service_options opts_;
  inbound_store store_;
  classifier_cache classifiers_;
  webhooks::counters counters_;
  std::vector<std::unique_ptr<per_worker>> workers_;
  std::atomic<bool> stopping_{false};
};

}  // namespace stopgate::gateway::webhooks
