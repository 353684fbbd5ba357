// One gateway thread: its io_context and the per-thread Redis connection, contact store and
// relay. Request coroutines run on the worker that accepted their connection and use that
// worker's parts (handed to them: gateway/services.hpp), so the hot path takes no locks and
// makes no cross-thread hops.
#pragma once

#include "carriers/relay/relay.hpp"
#include "dnc/contacts/store.hpp"
#include "redis/client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace stopgate::gateway {

struct worker {
  unsigned index = 0;
  boost::asio::io_context io{1};  // one thread runs it: no internal locking needed
  // Keeps run() going while the worker has nothing to do yet (or between requests).
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::unique_ptr<redis::client> redis;
  /// The connection for opt-out, opt-in and consent writes and their WAIT, when
  /// redis.min_replica_acks > 0 (set with the contact store; null otherwise).
  std::unique_ptr<redis::client> acked_redis;
  /// redis.min_replica_acks as resolved at start, and its timeout (with acked_redis).
  unsigned min_replica_acks = 0;
  std::chrono::milliseconds replica_ack_timeout{500};
  /// On a Redis Cluster with the contact cache on: the contact store's own client, whose reads
  /// the nodes track for the cache (CLIENT TRACKING), so that what the other stores read on
  /// `redis` is not tracked (set with the contact store; null otherwise).
  std::unique_ptr<redis::client> contacts_redis;
  std::unique_ptr<dnc::contacts::contact_store> contacts;
  /// This thread's carrier relay (its own HTTP connections; limits shared through the app's
  /// carrier_states). Use it only on this worker's thread.
  std::unique_ptr<carriers::relay::relay> relay;
  std::thread thread;
  /// Whether this worker's Redis answers: a PING on the worker's own connection every 250 ms
  /// (100 ms while down) answered within redis.timeout_ms. Read by /readyz and /metrics (the
  /// client itself may only be asked on its own thread).
  std::atomic<bool> redis_up{false};
  /// This worker's contact cache saw Redis lose changes and no rebuild since
  /// (contact_cache::data_lost(); polled with the PING), and how many times it saw one.
  std::atomic<bool> contacts_data_lost{false};
  std::atomic<std::uint64_t> contacts_data_losses{0};
  /// Longest adaptive busy-poll before the event loop blocks (server.busy_poll_us; 0 = off).
  std::chrono::microseconds busy_poll{0};

  /// Runs io until stopped. (Handlers are handed their worker, through the request's worker
  /// index and the services table, gateway/services.hpp; none looks it up by thread.)
  void run();
  /// Starts the redis_up sampler (call before run()).
  void watch_redis();
};

}  // namespace stopgate::gateway
