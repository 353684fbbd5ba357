// Settings of one Redis connection (client or subscriber). Plain struct, defaults in place.
#pragma once

#include "redis/url.hpp"

#include <chrono>
#include <cstddef>

namespace stopgate::redis {

struct client_options {
  endpoint ep;                                      // must be tcp or unix_socket
  std::chrono::milliseconds command_timeout{200};   // deadline on every command / pipeline
  std::chrono::milliseconds connect_timeout{1000};  // connect + AUTH + SELECT
  std::chrono::milliseconds reconnect_min{50}, reconnect_max{2000};  // backoff with jitter
  /// Commands sent but not yet answered (timed-out ones included until their late reply or
  /// the connection's end). Beyond it commands fail fast with errc::overloaded.
  std::size_t max_pending = 1'000'000;
  /// Bytes queued for a server that does not read (e.g. a stopped process). Beyond it
  /// commands fail fast with errc::overloaded.
  std::size_t max_unsent_bytes = 256u << 20;
};

}  // namespace stopgate::redis
