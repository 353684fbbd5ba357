// The carrier relay: hands one SMS to the first carrier of a route that accepts it, with a
// token-bucket rate limit, a concurrency limit, retries (exponential backoff with jitter,
// honouring Retry-After and rate-limit reset headers) and a circuit breaker per carrier, and
// failover to the next carrier only when a failure proves the message was not accepted
// (SPEC section 9; docs/RELAY.md).
//
//   auto states = std::make_shared<relay::carrier_states>();
//   states->configure(settings);                            // at start and on every reload
//   relay::relay r(io.get_executor(), states);              // one per worker thread
//   auto res = co_await r.async_send(settings, {"twilio", "telnyx"}, msg);
#pragma once

#include "carriers/http/message.hpp"
#include "carriers/relay/breaker.hpp"
#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::carriers::relay {

/// One HTTP call (or sandbox outbox append), or one carrier skipped without a call.
struct attempt {
  std::string carrier;         // the carrier's config name
  std::uint32_t try_number = 1;  // 1-based, per carrier
  bool accepted = false;
  /// The carrier's error code, "http_NNN", or one of ours: a transport failure ("timeout",
  /// "connect", "dns", "tls", "send", "recv", "too_large", "transport", "overloaded",
  /// "invalid_request"), "circuit_open", "rate_limited" (the wait for a token would pass the
  /// deadline), "busy" (no concurrency slot before the deadline), "unknown_carrier" (not in
  /// the settings), "outbox" (the sandbox could not append), "stopped".
  std::string error_code;
  std::string error_message;
  std::optional<failure_class> failure;
  bool request_sent = false;  // the request may have reached the carrier
  int http_status = 0;        // 0 when there was no HTTP response
  /// The backoff requested before this try (0 for a carrier's first try): the exponential
  /// jitter, or the carrier's Retry-After / rate-limit reset when that is longer.
  std::chrono::milliseconds backoff{};
  std::chrono::microseconds duration{};  // the call itself, without waits for limits
};

enum class relay_status { sent, failed };

struct relay_result {
  relay_status status = relay_status::failed;
  std::string carrier;  // the carrier that accepted the message, or the last one tried
  std::string carrier_message_id;
  std::string carrier_status;
  /// Set when failed: recipient_opted_out (stop: the caller records the opt-out), permanent,
  /// or retryable (every carrier of the route exhausted or open).
  std::optional<failure_class> failure;
  std::string error_code;
  std::string error_message;
  /// Failed after a request reached a carrier without an answer (e.g. a timeout after the
  /// request was sent): the carrier may have accepted it, so it was not handed to another.
  bool outcome_unknown = false;
  std::vector<attempt> attempts;
};

/// Counters of one carrier, for /metrics.
struct carrier_counters {
  std::string carrier;
  /// Calls by result, plus calls skipped (circuit open) or given up (rate/concurrency limit
  /// not reached before the send's deadline).
  std::uint64_t accepted = 0, retryable = 0, permanent = 0, opted_out = 0, skipped_open = 0;
  std::uint64_t limited = 0;
  std::uint64_t in_flight = 0;
  circuit_state circuit = circuit_state::closed;
  bool circuit_open = false;  // circuit == open (calls are skipped)
  /// Per HTTP call (or outbox append): seconds, cumulative buckets as in Prometheus.
  std::vector<std::pair<double, std::uint64_t>> latency_buckets;  // (upper bound, count)
  double latency_sum = 0;
  std::uint64_t latency_count = 0;
};

class carrier_states;

/// Settings of one relay, fixed at construction. The defaults are the production ones.
struct relay_options {
  /// Upper bound on one async_send: waits for tokens, slots and backoff never pass it (a
  /// carrier that cannot be reached in time is failed over). HTTP calls have their own
  /// timeout (the carrier's timeout_ms).
  std::chrono::milliseconds send_deadline{60000};
  /// Called before each backoff wait with the requested delay; returns the delay to wait.
  /// Tests return zero and record the request. Called on the relay's executor.
  std::function<std::chrono::milliseconds(std::string_view carrier,
                                          std::chrono::milliseconds requested)>
      delay;
  /// Uniform 64-bit random values for the backoff jitter (default: a per-relay mt19937_64).
  std::function<std::uint64_t()> random;
  /// Wall clock for Retry-After HTTP-dates and outbox timestamps.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  http::client_options http;
};

/// Relays messages for one worker thread. Not thread-safe: construct, call and destroy it on
/// its executor. Holds that thread's HTTP client (connections are reused per thread). The
/// protection state (rate limits, concurrency limits, breakers) lives in the shared
/// carrier_states, so limits hold across every worker.
class relay {
 public:
  relay(boost::asio::any_io_executor ex, std::shared_ptr<carrier_states> states,
        relay_options opts = {});
  /// Stops (as stop()); sends still suspended finish later with "stopped".
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Sends `msg` along `route` (carrier names of `s`, in order). `s` must stay alive until
  /// completion. Completes when the outcome is known: accepted by one carrier, or failed
  /// (with every attempt listed). Never throws. Must be awaited on the relay's executor;
  /// may complete without suspending (e.g. every carrier's circuit open, or the sandbox).
  boost::asio::awaitable<relay_result> async_send(const config::settings& s,
                                                  std::span<const std::string> route,
                                                  outbound_message msg);

  /// Fails later and in-flight sends with "stopped" (graceful shutdown).
  void stop();

 private:
  struct impl;
  // Shared with running sends, so a relay destroyed while a send is suspended stays valid
  // until that send completes.
  std::shared_ptr<impl> impl_;
};

}  // namespace stopgate::carriers::relay
