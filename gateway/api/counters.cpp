#include "gateway/api/counters.hpp"

namespace stopgate::gateway::api {

namespace {
constexpr std::array<std::string_view, op_kind_count> op_names{
    "ping", "auth", "check", "send", "consent", "optout", "optin",
    "lookup", "forget", "reload", "stats", "other"};
}

op_kind classify_op(std::string_view op) noexcept {
  for (std::size_t i = 0; i + 1 < op_kind_count; ++i) {
    if (op_names[i] == op) return op_kind(i);
  }
  return op_kind::other;
}

std::string_view to_string(op_kind k) noexcept { return op_names[std::size_t(k)]; }

api_counters::api_counters(std::size_t contexts)
    : count_(contexts ? contexts : 1), blocks_(std::make_unique<counter_block[]>(count_)) {}

std::int64_t api_counters::open_connections() const noexcept {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    n += blocks_[i].connections_open.load(std::memory_order_relaxed);
  }
  return n;
}

counters_snapshot api_counters::snapshot() const noexcept {
  counters_snapshot s;
  constexpr auto r = std::memory_order_relaxed;
  for (std::size_t i = 0; i < count_; ++i) {
    const counter_block& b = blocks_[i];
    s.connections_open += b.connections_open.load(r);
    s.connections_total += b.connections_total.load(r);
    s.connections_rejected += b.connections_rejected.load(r);
    s.in_flight += b.in_flight.load(r);
    s.bytes_in += b.bytes_in.load(r);
    s.bytes_out += b.bytes_out.load(r);
    for (std::size_t k = 0; k < op_kind_count; ++k) s.requests[k] += b.requests[k].load(r);
    for (std::size_t e = 0; e < std::size_t(api_errc_count); ++e) s.errors[e] += b.errors[e].load(r);
  }
  return s;
}

boost::json::object counters_snapshot::to_json() const {
  boost::json::object o;
  o["connections"] = {{"open", connections_open},
                      {"total", connections_total},
                      {"rejected", connections_rejected}};
  o["in_flight"] = in_flight;
  o["bytes_in"] = bytes_in;
  o["bytes_out"] = bytes_out;
  boost::json::object req;
  for (std::size_t k = 0; k < op_kind_count; ++k) req[to_string(op_kind(k))] = requests[k];
  o["requests"] = std::move(req);
  boost::json::object err;
  for (int e = 1; e < api_errc_count; ++e) err[to_string(api_errc(e))] = errors[std::size_t(e)];
  o["errors"] = std::move(err);
  return o;
}

}  // namespace stopgate::gateway::api
