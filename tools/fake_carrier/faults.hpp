// Fault injection: what the fake does instead of (or before) answering normally, for which
// carrier, how many times and how often. Faults are kept in the order they were added; for
// each request the first matching latency fault sets a delay and the first matching other
// fault sets the action, so "50 ms for everyone" and "10% 503 for Twilio" combine.
#pragma once

#include "config/settings.hpp"

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::fake_carrier {

enum class fault_kind {
  latency,           // wait `delay` before answering normally
  rate_limit,        // 429 + Retry-After (Telnyx: x-ratelimit-* headers; Vonage: status 1)
  server_error,      // `status` (500 or 503, default 503) with the carrier's error body
  timeout,           // read the request, never answer; the connection stays open until the
                     // client gives up (or the server stops)
  drop_before_body,  // close the connection once the request headers are read
  drop_after_body,   // read the whole request, then close without answering
  opted_out,         // the carrier's "recipient opted out" answer (see docs/dev/FAKE_CARRIER.md)
  permanent,         // the carrier's "invalid destination number" error
};

std::string_view to_string(fault_kind k) noexcept;
std::optional<fault_kind> fault_kind_from(std::string_view name) noexcept;

struct fault {
  fault_kind kind = fault_kind::server_error;
  std::optional<config::carrier_type> carrier;  // nullopt: every carrier
  std::uint64_t count = 0;     // the next `count` requests it hits; 0 = until cleared
  double fraction = 1.0;       // the chance it hits a matching request, in (0, 1]
  std::chrono::milliseconds delay{0};  // wait this long first (latency: then answer normally)
  std::string retry_after = "1";       // rate_limit: the Retry-After value; "" = none
  int status = 0;                      // 0 = the kind's usual status for the carrier
};

/// What the faults decided for one request.
struct fault_plan {
  std::chrono::milliseconds delay{0};
  std::optional<fault> action;  // the non-latency fault that hit, if any
};

/// The active faults. Thread-safe (one mutex; a request takes it once).
class fault_table {
 public:
  /// `seed` makes fractional faults reproducible.
  explicit fault_table(std::uint64_t seed = 1);

  void add(fault f);
  void clear();
  /// The active faults, each with the count it has left.
  std::vector<fault> list() const;
  /// Decides for one request to `carrier`, consuming a count from each fault that hit (a
  /// fault whose count reaches zero is removed).
  fault_plan pick(config::carrier_type carrier);

 private:
  mutable std::mutex mutex_;
  std::vector<fault> faults_;
  std::mt19937_64 rng_;
};

/// A fault from JSON: {"kind": "rate_limit", "carrier": "twilio", "count": 2, "fraction": 0.5,
/// "delay_ms": 100, "retry_after": "3", "status": 503}; only "kind" is required. A JSON
/// array gives several. Thread-safe (pure).
boost::system::result<std::vector<fault>> parse_faults(std::string_view json_text,
                                                       std::string& detail);
boost::json::value to_json(const fault& f);

/// Upper bounds on what a fault may ask for, so a script cannot wedge the fake for ever.
inline constexpr std::chrono::milliseconds max_fault_delay = std::chrono::minutes(10);
inline constexpr std::size_t max_faults = 1024;

}  // namespace stopgate::fake_carrier
