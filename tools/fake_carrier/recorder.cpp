#include "tools/fake_carrier/recorder.hpp"

#include "carriers/signature/webhook_request.hpp"
#include "tools/fake_carrier/credentials.hpp"

#include <date/date.h>

namespace stopgate::fake_carrier {

namespace json = boost::json;

std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::accepted: return "accepted";
    case outcome::unauthorized: return "unauthorized";
    case outcome::invalid: return "invalid";
    case outcome::faulted: return "faulted";
  }
  return "unknown";
}

std::optional<std::string_view> recorded_request::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (carriers::signature::iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void recorder::record(recorded_request r) {
  std::lock_guard lock(mutex_);
  ++stats_.requests;
  if (r.carrier != config::carrier_type::sandbox) {
    carrier_stats& c = stats_.carriers[std::size_t(r.carrier)];
    ++c.requests;
    switch (r.result) {
      case outcome::accepted: ++c.accepted; break;
      case outcome::unauthorized: ++c.unauthorized; break;
      case outcome::invalid: ++c.invalid; break;
      case outcome::faulted: break;
    }
    if (r.fault) ++c.faults[std::size_t(*r.fault)];
  }
  if (max_records_ == 0) {
    ++stats_.dropped_records;
    return;
  }
  if (records_.size() >= max_records_) {
    records_.pop_front();
    ++stats_.dropped_records;
  }
  records_.push_back(std::move(r));
}

void recorder::count_not_found() {
  std::lock_guard lock(mutex_);
  ++stats_.not_found;
}

void recorder::count_connection() {
  std::lock_guard lock(mutex_);
  ++stats_.connections;
}

std::vector<recorded_request> recorder::requests(
    std::optional<config::carrier_type> carrier) const {
  std::lock_guard lock(mutex_);
  std::vector<recorded_request> out;
  for (const auto& r : records_)
    if (!carrier || r.carrier == *carrier) out.push_back(r);
  return out;
}

stats recorder::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void recorder::clear() {
  std::lock_guard lock(mutex_);
  records_.clear();
  stats_ = {};
}

json::value to_json(const recorded_request& r) {
  json::object o;
  o["carrier"] = config::to_string(r.carrier);
  o["method"] = r.method;
  o["target"] = r.target;
  json::array headers;
  for (const auto& [k, v] : r.headers) headers.push_back(json::array{json::string(k), json::string(v)});
  o["headers"] = std::move(headers);
  o["body"] = r.body;
  o["received_at"] = date::format("%FT%TZ", date::floor<std::chrono::microseconds>(r.received_at));
  o["outcome"] = to_string(r.result);
  o["fault"] = r.fault ? json::value(to_string(*r.fault)) : json::value(nullptr);
  o["delay_ms"] = r.delay.count();
  o["status"] = r.status;
  o["message_id"] = r.message_id;
  o["async_error"] = r.async_error;
  return o;
}

json::value to_json(const stats& s) {
  json::object o;
  o["requests"] = s.requests;
  o["not_found"] = s.not_found;
  o["connections"] = s.connections;
  o["dropped_records"] = s.dropped_records;
  json::object per;
  for (auto t : spoken_carriers) {
    const carrier_stats& c = s.of(t);
    json::object co;
    co["requests"] = c.requests;
    co["accepted"] = c.accepted;
    co["unauthorized"] = c.unauthorized;
    co["invalid"] = c.invalid;
    json::object faults;
    for (std::size_t k = 0; k < c.faults.size(); ++k)
      faults[to_string(fault_kind(k))] = c.faults[k];
    co["faults"] = std::move(faults);
    per[config::to_string(t)] = std::move(co);
  }
  o["carriers"] = std::move(per);
  return o;
}

}  // namespace stopgate::fake_carrier
