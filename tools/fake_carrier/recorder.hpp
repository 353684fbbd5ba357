// What the fake carrier saw and did: every send request it received (bounded, oldest
// dropped first) and counters per carrier, for tests and GET /_fake/requests, /_fake/stats.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"
#include "tools/fake_carrier/faults.hpp"

#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::fake_carrier {

/// How the fake answered one request.
enum class outcome {
  accepted,      // the carrier's success body
  unauthorized,  // wrong or missing credentials: the carrier's 401 (Vonage: status 4)
  invalid,       // a required field missing or malformed: the carrier's 400
  faulted,       // a fault decided the answer (or the lack of one)
};
std::string_view to_string(outcome o) noexcept;

struct recorded_request {
  config::carrier_type carrier = config::carrier_type::http;
  std::string method;
  std::string target;  // path and query as sent
  carriers::header_list headers;  // in arrival order, names as sent
  std::string body;               // empty for drop_before_body
  std::chrono::system_clock::time_point received_at;
  outcome result = outcome::accepted;
  std::optional<fault_kind> fault;  // the action fault applied, if any
  std::chrono::milliseconds delay{0};
  int status = 0;           // the HTTP status answered; 0 when none was (drop, timeout)
  std::string message_id;   // the id answered when accepted
  /// For carriers that report an opt-out only in a later status callback (Bandwidth 4775,
  /// Plivo 200, Sinch "Deleted"): the error that callback should carry; "" otherwise.
  std::string async_error;

  /// The first header named `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

struct carrier_stats {
  std::uint64_t requests = 0;
  std::uint64_t accepted = 0;
  std::uint64_t unauthorized = 0;
  std::uint64_t invalid = 0;
  std::array<std::uint64_t, 8> faults{};  // indexed by fault_kind
};

struct stats {
  std::uint64_t requests = 0;   // send requests of every carrier
  std::uint64_t not_found = 0;  // requests to no known endpoint (404)
  std::uint64_t connections = 0;  // TCP connections accepted (keep-alive reuses them)
  std::uint64_t dropped_records = 0;  // records evicted by the cap (counters still count them)
  std::array<carrier_stats, 7> carriers{};  // indexed by carrier_type (sandbox excluded)
  const carrier_stats& of(config::carrier_type t) const { return carriers[std::size_t(t)]; }
};

/// Thread-safe (one mutex). Records are copied out, never referenced.
class recorder {
 public:
  explicit recorder(std::size_t max_records = 100000) : max_records_(max_records) {}

  void record(recorded_request r);
  void count_not_found();
  void count_connection();
  /// Every kept record in arrival order; with `carrier`, only that carrier's.
  std::vector<recorded_request> requests(
      std::optional<config::carrier_type> carrier = std::nullopt) const;
  stats snapshot() const;
  /// Forgets every record and zeroes the counters.
  void clear();

 private:
  mutable std::mutex mutex_;
  std::size_t max_records_;
  std::deque<recorded_request> records_;
  stats stats_;
};

boost::json::value to_json(const recorded_request& r);
boost::json::value to_json(const stats& s);

}  // namespace stopgate::fake_carrier
