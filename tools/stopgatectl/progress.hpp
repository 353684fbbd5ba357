// A one-line progress bar on stderr, drawn only when stderr is a terminal, at most ten times
// a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stopgate::ctl {

class progress_bar {
 public:
  /// `unit` names the items counted ("numbers", "records").
  explicit progress_bar(std::string label, std::string unit = "numbers");
  ~progress_bar();
  /// done/total in bytes (total 0 = unknown), items = units read so far.
  void update(std::uint64_t done, std::uint64_t total, std::uint64_t items);
  /// Clears the line (before the summary is printed).
  void finish();
  bool enabled() const noexcept { return enabled_; }

 private:
  std::string label_, unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// "25,000,000".
std::string group_digits(std::uint64_t v);

}  // namespace stopgate::ctl
