#include "gateway/http/prometheus.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace stopgate::gateway::http {

namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view type_name(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  // Whole numbers (every counter) print as integers, not as 1e+06.
  constexpr double exact_limit = 9007199254740992.0;  // 2^53
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < exact_limit) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out.append(buf, r.ptr);
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == '_' || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == '_')) return false;
  if (name.starts_with("__")) return false;  // reserved for Prometheus itself
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

void append_exposition(std::string& out, const metric_family& f) {
  if (!valid_metric_name(f.name)) return;
  out.append("# HELP ").append(f.name).push_back(' ');
  append_help(out, f.help);
  out.append("\n# TYPE ").append(f.name).push_back(' ');
  out.append(type_name(f.type)).push_back('\n');
  for (const auto& s : f.samples) {
    bool labels_ok = std::all_of(s.labels.begin(), s.labels.end(),
                                 [](const metric_label& l) { return valid_label_name(l.name); });
    if (!labels_ok || !std::all_of(s.suffix.begin(), s.suffix.end(), [](char c) {
          return is_alpha(c) || is_digit(c) || c == '_' || c == ':';
        })) {
      continue;
    }
    out.append(f.name).append(s.suffix);
    if (!s.labels.empty()) {
      out.push_back('{');
      for (std::size_t i = 0; i < s.labels.size(); ++i) {
        if (i) out.push_back(',');
        out.append(s.labels[i].name).append("=\"");
        append_label_value(out, s.labels[i].value);
        out.push_back('"');
      }
      out.push_back('}');
    }
    out.push_back(' ');
    append_value(out, s.value);
    out.push_back('\n');
  }
}

std::string format_exposition(const std::vector<metric_family>& families) {
  std::string out;
  out.reserve(4096);
  for (const auto& f : families) append_exposition(out, f);
  return out;
}

void append_histogram_samples(metric_family& f, const histogram_snapshot& h,
                              const std::vector<metric_label>& labels) {
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    metric_sample s{"_bucket", labels, double(h.cumulative[i])};
    std::string le;
    if (i < h.bounds.size()) {
      append_value(le, h.bounds[i]);
    } else {
      le = "+Inf";
    }
    s.labels.push_back({"le", std::move(le)});
    f.samples.push_back(std::move(s));
  }
  f.samples.push_back({"_sum", labels, h.sum});
  f.samples.push_back({"_count", labels, double(h.count)});
}

histogram::histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::erase_if(bounds_, [](double b) { return !std::isfinite(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) noexcept {
  if (std::isnan(v)) return;
  // `le` is inclusive: the first bound >= v.
  auto i = std::size_t(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram_snapshot histogram::snapshot() const {
  histogram_snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  // Derived from the buckets so that _count always equals the +Inf bucket.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> histogram::latency_seconds_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,     10};
}

}  // namespace stopgate::gateway::http
