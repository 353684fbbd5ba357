// HTTP server counters for /metrics: requests by route and status, latency by route, bytes,
// connections, in-flight requests.
//
// One cache-line-aligned block per io_context: a connection only touches its own context's
// block (relaxed atomics); the latency histograms are shared (lock-free). families() sums
// the blocks and may be called from any thread.
#pragma once

#include "gateway/http/prometheus.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stopgate::gateway::http {

/// Routes, the built-in ones included; index max_routes counts requests that matched none.
inline constexpr std::size_t max_routes = 16;
inline constexpr std::size_t unmatched_route = max_routes;
/// Statuses 100..599 are counted individually; anything else is clamped into that range.
inline constexpr unsigned min_status = 100;
inline constexpr std::size_t status_slots = 500;

struct alignas(64) http_counter_block {
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::array<std::array<std::atomic<std::uint64_t>, status_slots>, max_routes + 1> requests{};

  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  void add(std::atomic<std::int64_t>& c, std::int64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

/// Summed values at one instant.
struct http_counters_snapshot {
  std::int64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_rejected = 0;
  std::int64_t in_flight = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  /// Non-zero (route index, status, count) triples.
  struct request_count {
    std::size_t route;
    unsigned status;
    std::uint64_t count;
  };
  std::vector<request_count> requests;

  /// Requests counted for (route, status).
  std::uint64_t requests_for(std::size_t route, unsigned status) const noexcept;
};

class http_counters {
 public:
  explicit http_counters(std::size_t contexts);

  http_counter_block& block(std::size_t context_index) noexcept { return blocks_[context_index]; }
  /// Counts one answered request and its latency. Thread-safe (on its context's block).
  void count_request(std::size_t context_index, std::size_t route, unsigned status,
                     double seconds) noexcept;
  /// Thread-safe.
  http_counters_snapshot snapshot() const;
  /// The stopgate_http_* families; `route_labels[i]` names route i ("" for unused slots).
  std::vector<metric_family> families(const std::vector<std::string>& route_labels) const;

 private:
  std::size_t count_;
  std::unique_ptr<http_counter_block[]> blocks_;
  std::vector<std::unique_ptr<histogram>> latency_;  // per route
};

}  // namespace stopgate::gateway::http
