// Settings of one Redis client or subscriber. Plain struct, defaults in place.
#pragma once

#include "redis/stats.hpp"
#include "redis/url.hpp"

#include <chrono>
#include <cstddef>
#include <functional>

namespace stopgate::redis {

struct client_options {
  endpoint ep;  // tcp, unix_socket, cluster or sentinel (managed: start a managed_server first)
  std::chrono::milliseconds command_timeout{200};   // deadline on every command / pipeline
  std::chrono::milliseconds connect_timeout{1000};  // connect + AUTH + SELECT (+ ROLE)
  std::chrono::milliseconds reconnect_min{50}, reconnect_max{2000};  // backoff with jitter
  /// Commands sent but not yet answered (timed-out ones included until their late reply or
  /// the connection's end), per connection. Beyond it commands fail fast with errc::overloaded.
  std::size_t max_pending = 1'000'000;
  /// Bytes queued for a server that does not read (e.g. a stopped process), per connection.
  /// Beyond it commands fail fast with errc::overloaded.
  std::size_t max_unsent_bytes = 256u << 20;

  // Redis Cluster (ep.type == cluster); docs/REDIS.md "Retries".
  /// MOVED / ASK redirects followed for one command before its last redirect is returned.
  unsigned max_redirects = 5;
  /// Resends of one command after TRYAGAIN, CLUSTERDOWN or a lost / absent node connection,
  /// each after a backoff in [retry_min, retry_max]; then the last answer is returned.
  unsigned max_retries = 4;
  std::chrono::milliseconds retry_min{10}, retry_max{200};
  /// Called on the client's executor before each resend (metrics, tests). May be empty.
  std::function<void(retry_reason)> on_retry;
};

}  // namespace stopgate::redis
