#include "gateway/http/counters.hpp"

#include <algorithm>

namespace stopgate::gateway::http {

namespace {
std::size_t status_slot(unsigned status) noexcept {
  return std::min<std::size_t>(std::max(status, min_status) - min_status, status_slots - 1);
}
}  // namespace

std::uint64_t http_counters_snapshot::requests_for(std::size_t route, unsigned status) const noexcept {
  for (const auto& r : requests) {
    if (r.route == route && r.status == status) return r.count;
  }
  return 0;
}

http_counters::http_counters(std::size_t contexts)
    : count_(contexts ? contexts : 1), blocks_(std::make_unique<http_counter_block[]>(count_)) {
  for (std::size_t i = 0; i <= max_routes; ++i) {
    latency_.push_back(std::make_unique<histogram>(histogram::latency_seconds_buckets()));
  }
}

void http_counters::count_request(std::size_t context_index, std::size_t route, unsigned status,
                                  double seconds) noexcept {
  route = std::min(route, unmatched_route);
  auto& b = blocks_[context_index];
  b.add(b.requests[route][status_slot(status)]);
  latency_[route]->observe(seconds);
}

http_counters_snapshot http_counters::snapshot() const {
  http_counters_snapshot s;
  constexpr auto r = std::memory_order_relaxed;
  std::vector<std::uint64_t> sums((max_routes + 1) * status_slots, 0);
  for (std::size_t i = 0; i < count_; ++i) {
    const auto& b = blocks_[i];
    s.connections_open += b.connections_open.load(r);
    s.connections_total += b.connections_total.load(r);
    s.connections_rejected += b.connections_rejected.load(r);
    s.in_flight += b.in_flight.load(r);
    s.bytes_in += b.bytes_in.load(r);
    s.bytes_out += b.bytes_out.load(r);
    for (std::size_t route = 0; route <= max_routes; ++route) {
      for (std::size_t k = 0; k < status_slots; ++k) sums[route * status_slots + k] += b.requests[route][k].load(r);
    }
  }
  for (std::size_t route = 0; route <= max_routes; ++route) {
    for (std::size_t k = 0; k < status_slots; ++k) {
      if (auto n = sums[route * status_slots + k]) s.requests.push_back({route, unsigned(k + min_status), n});
    }
  }
  return s;
}

std::vector<metric_family> http_counters::families(const std::vector<std::string>& route_labels) const {
  auto s = snapshot();
  auto label_of = [&](std::size_t route) -> std::string {
    if (route < route_labels.size() && !route_labels[route].empty()) return route_labels[route];
    return "unmatched";
  };
  std::vector<metric_family> out;
  metric_family requests{"stopgate_http_requests_total", "HTTP requests answered, by route and status code.",
                         metric_type::counter, {}};
  for (const auto& r : s.requests) {
    requests.samples.push_back({"", {{"route", label_of(r.route)}, {"code", std::to_string(r.status)}},
                                double(r.count)});
  }
  out.push_back(std::move(requests));

  metric_family latency{"stopgate_http_request_duration_seconds",
                        "Time from a complete HTTP request to its response being ready to write.",
                        metric_type::histogram, {}};
  for (std::size_t route = 0; route <= max_routes; ++route) {
    auto h = latency_[route]->snapshot();
    if (h.count == 0) continue;
    append_histogram_samples(latency, h, {{"route", label_of(route)}});
  }
  out.push_back(std::move(latency));

  auto single = [&](std::string name, std::string help, metric_type t, double v) {
    out.push_back({std::move(name), std::move(help), t, {{"", {}, v}}});
  };
  single("stopgate_http_in_flight_requests", "HTTP requests being handled now.", metric_type::gauge,
         double(s.in_flight));
  single("stopgate_http_connections_open", "Open HTTP connections.", metric_type::gauge,
         double(s.connections_open));
  single("stopgate_http_connections_total", "HTTP connections accepted.", metric_type::counter,
         double(s.connections_total));
  single("stopgate_http_connections_rejected_total",
         "HTTP connections closed at accept because http.max_connections was reached.",
         metric_type::counter, double(s.connections_rejected));
  single("stopgate_http_received_bytes_total", "Bytes of HTTP requests read (headers and bodies).",
         metric_type::counter, double(s.bytes_in));
  single("stopgate_http_sent_bytes_total", "Bytes of HTTP responses written.", metric_type::counter,
         double(s.bytes_out));
  return out;
}

}  // namespace stopgate::gateway::http
