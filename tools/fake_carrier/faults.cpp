#include "tools/fake_carrier/faults.hpp"

#include "tools/fake_carrier/credentials.hpp"
#include "tools/fake_carrier/error.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <utility>

namespace stopgate::fake_carrier {
namespace {

namespace json = boost::json;

constexpr std::array<std::pair<fault_kind, std::string_view>, 8> kind_names = {{
    {fault_kind::latency, "latency"},
    {fault_kind::rate_limit, "rate_limit"},
    {fault_kind::server_error, "server_error"},
    {fault_kind::timeout, "timeout"},
    {fault_kind::drop_before_body, "drop_before_body"},
    {fault_kind::drop_after_body, "drop_after_body"},
    {fault_kind::opted_out, "opted_out"},
    {fault_kind::permanent, "permanent"},
}};

std::optional<std::int64_t> integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX))
    return std::int64_t(v.get_uint64());
  return std::nullopt;
}

boost::system::result<fault> parse_one(const json::value& v, std::string& detail) {
  if (!v.is_object()) {
    detail = "a fault must be an object";
    return make_error_code(fake_errc::bad_json);
  }
  fault f;
  bool have_kind = false;
  auto bad = [&](std::string_view key, std::string_view why) {
    detail = std::string(key) + ": " + std::string(why);
    return make_error_code(fake_errc::bad_value);
  };
  for (const auto& [key, value] : v.get_object()) {
    if (key == "kind") {
      auto k = value.is_string() ? fault_kind_from(value.get_string()) : std::nullopt;
      if (!k) {
        detail = value.is_string() ? std::string(value.get_string()) : "kind";
        return make_error_code(fake_errc::unknown_fault);
      }
      f.kind = *k;
      have_kind = true;
    } else if (key == "carrier") {
      if (!value.is_string()) return bad(key, "must be a carrier name");
      if (value.get_string() == "all" || value.get_string() == "*") continue;
      auto c = carrier_from_name(value.get_string());
      if (!c) {
        detail = std::string(value.get_string());
        return make_error_code(fake_errc::unknown_carrier);
      }
      f.carrier = c;
    } else if (key == "count") {
      auto n = integer(value);
      if (!n || *n < 0) return bad(key, "must be a non-negative integer");
      f.count = std::uint64_t(*n);
    } else if (key == "fraction") {
      if (!value.is_number()) return bad(key, "must be a number in (0, 1]");
      f.fraction = value.to_number<double>();
      if (!(f.fraction > 0.0 && f.fraction <= 1.0)) return bad(key, "must be in (0, 1]");
    } else if (key == "delay_ms") {
      auto n = integer(value);
      if (!n || *n < 0 || *n > max_fault_delay.count())
        return bad(key, "must be an integer in [0, 600000]");
      f.delay = std::chrono::milliseconds(*n);
    } else if (key == "retry_after") {
      if (value.is_string()) f.retry_after = std::string(value.get_string());
      else if (auto n = integer(value); n && *n >= 0) f.retry_after = std::to_string(*n);
      else return bad(key, "must be a string or a non-negative integer");
      if (f.retry_after.size() > 64) return bad(key, "too long");
    } else if (key == "status") {
      auto n = integer(value);
      if (!n || *n < 100 || *n > 599) return bad(key, "must be an HTTP status");
      f.status = int(*n);
    } else {
      detail = std::string(key);
      return make_error_code(fake_errc::unknown_key);
    }
  }
  if (!have_kind) {
    detail = "kind is required";
    return make_error_code(fake_errc::bad_json);
  }
  return f;
}

bool matches(const fault& f, config::carrier_type c) { return !f.carrier || *f.carrier == c; }

}  // namespace

std::string_view to_string(fault_kind k) noexcept {
  for (const auto& [kind, name] : kind_names)
    if (kind == k) return name;
  return "unknown";
}

std::optional<fault_kind> fault_kind_from(std::string_view name) noexcept {
  for (const auto& [kind, n] : kind_names)
    if (n == name) return kind;
  return std::nullopt;
}

fault_table::fault_table(std::uint64_t seed) : rng_(seed) {}

void fault_table::add(fault f) {
  std::lock_guard lock(mutex_);
  // Bounded: the oldest fault gives way (a script adding faults in a loop must not grow us).
  if (faults_.size() >= max_faults) faults_.erase(faults_.begin());
  faults_.push_back(std::move(f));
}

void fault_table::clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

std::vector<fault> fault_table::list() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

fault_plan fault_table::pick(config::carrier_type carrier) {
  fault_plan plan;
  std::lock_guard lock(mutex_);
  bool have_delay = false;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  for (auto it = faults_.begin(); it != faults_.end();) {
    const bool latency = it->kind == fault_kind::latency;
    if (!matches(*it, carrier) || (latency ? have_delay : plan.action.has_value()) ||
        (it->fraction < 1.0 && coin(rng_) >= it->fraction)) {
      ++it;
      continue;
    }
    // At most one latency fault and one action hit; their delays add up.
    plan.delay += it->delay;
    if (latency) have_delay = true;
    else plan.action = *it;
    if (it->count == 1) {
      it = faults_.erase(it);
      continue;
    }
    if (it->count > 1) --it->count;
    ++it;
  }
  return plan;
}

boost::system::result<std::vector<fault>> parse_faults(std::string_view json_text,
                                                       std::string& detail) {
  boost::system::error_code ec;
  json::value root = json::parse(json_text, ec);
  if (ec) {
    detail = ec.message();
    return make_error_code(fake_errc::bad_json);
  }
  std::vector<fault> out;
  if (root.is_array()) {
    if (root.get_array().size() > max_faults) {
      detail = "too many faults";
      return make_error_code(fake_errc::bad_value);
    }
    for (const auto& v : root.get_array()) {
      auto f = parse_one(v, detail);
      if (!f) return f.error();
      out.push_back(std::move(*f));
    }
  } else {
    auto f = parse_one(root, detail);
    if (!f) return f.error();
    out.push_back(std::move(*f));
  }
  return out;
}

json::value to_json(const fault& f) {
  json::object o;
  o["kind"] = to_string(f.kind);
  o["carrier"] = f.carrier ? config::to_string(*f.carrier) : std::string_view("all");
  o["count"] = f.count;
  o["fraction"] = f.fraction;
  o["delay_ms"] = f.delay.count();
  o["retry_after"] = f.retry_after;
  o["status"] = f.status;
  return o;
}

}  // namespace stopgate::fake_carrier
