// Prometheus text exposition format 0.0.4: metric families, a formatter, and a lock-free
// fixed-bucket histogram.
//
// Families are plain values built per scrape (by the providers the daemon supplies and by
// the HTTP server for its own counters) and formatted here with the escaping the format
// requires: in HELP text `\` and newline; in label values `\`, `"` and newline. Names that
// the format does not allow are left out rather than emitted unparseable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::http {

enum class metric_type { counter, gauge, histogram };

struct metric_label {
  std::string name;   // [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
  std::string value;  // any UTF-8
};

struct metric_sample {
  std::string suffix;  // appended to the family name: "", "_bucket", "_sum", "_count"
  std::vector<metric_label> labels;
  double value = 0;
};

struct metric_family {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters by convention end in _total
  std::string help;
  metric_type type = metric_type::gauge;
  std::vector<metric_sample> samples;
};

inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Appends one family: "# HELP", "# TYPE", then its samples. A family with an invalid name is
/// skipped whole; a sample with an invalid label name is skipped. Pure; thread-safe.
void append_exposition(std::string& out, const metric_family& family);
/// All families, in order.
std::string format_exposition(const std::vector<metric_family>& families);

/// Values at one instant. `cumulative[i]` counts observations <= bounds[i]; the last entry
/// (one past bounds) is the +Inf bucket and equals `count`.
struct histogram_snapshot {
  std::vector<double> bounds;
  std::vector<std::uint64_t> cumulative;
  double sum = 0;
  std::uint64_t count = 0;
};

/// Appends the `_bucket{le=...}` samples (cumulative, ending with le="+Inf"), `_sum` and
/// `_count` of `h` to a histogram family, each with `labels` plus `le` on the buckets.
void append_histogram_samples(metric_family& family, const histogram_snapshot& h,
                              const std::vector<metric_label>& labels = {});

/// A histogram with fixed upper bounds. observe() is lock-free (relaxed atomics) and may be
/// called from any thread; snapshot() too (it may straddle concurrent observations, but its
/// count always equals the +Inf bucket).
class histogram {
 public:
  /// Bounds are sorted; non-finite and duplicate bounds are dropped (+Inf is implicit).
  explicit histogram(std::vector<double> upper_bounds);

  /// Counts `v` in the first bucket whose bound is >= v. NaN is ignored.
  void observe(double v) noexcept;
  histogram_snapshot snapshot() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

  /// 100 µs .. 10 s, for request latency in seconds.
  static std::vector<double> latency_seconds_buckets();

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

/// True when `name` is a valid metric name / label name.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

}  // namespace stopgate::gateway::http
