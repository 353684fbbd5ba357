// Socket API counters for /metrics and the `stats` op.
//
// One cache-line-aligned block per io_context: a connection only touches its own context's
// block (relaxed atomics, no sharing between cores); snapshot() sums the blocks and may be
// called from any thread.
#pragma once

#include "gateway/api/error.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace stopgate::gateway::api {

/// Ops counted by name; anything else is counted as `other`.
enum class op_kind : std::uint8_t {
  ping, auth, check, send, consent, optout, optin, lookup, forget, reload, stats, other
};
inline constexpr std::size_t op_kind_count = std::size_t(op_kind::other) + 1;
op_kind classify_op(std::string_view op) noexcept;
std::string_view to_string(op_kind k) noexcept;

struct alignas(64) counter_block {
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::array<std::atomic<std::uint64_t>, op_kind_count> requests{};
  std::array<std::atomic<std::uint64_t>, api_errc_count> errors{};

  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  void add(std::atomic<std::int64_t>& c, std::int64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

/// Summed values at one instant.
struct counters_snapshot {
  std::int64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_rejected = 0;
  std::int64_t in_flight = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::array<std::uint64_t, op_kind_count> requests{};
  std::array<std::uint64_t, api_errc_count> errors{};

  /// {"connections":{"open","total","rejected"},"in_flight","bytes_in","bytes_out",
  ///  "requests":{op:n,...},"errors":{code:n,...}} (zero entries included).
  boost::json::object to_json() const;
};

class api_counters {
 public:
  explicit api_counters(std::size_t contexts);
  counter_block& block(std::size_t context_index) noexcept { return blocks_[context_index]; }
  /// Thread-safe.
  counters_snapshot snapshot() const noexcept;
  /// Open connections over all contexts (thread-safe; used for max_connections).
  std::int64_t open_connections() const noexcept;

 private:
  std::size_t count_;
  std::unique_ptr<counter_block[]> blocks_;
};

}  // namespace stopgate::gateway::api
