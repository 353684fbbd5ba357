#include "tools/stopgatectl/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace stopgate::ctl {

std::string group_digits(std::uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

progress_bar::progress_bar(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

progress_bar::~progress_bar() { finish(); }

void progress_bar::update(std::uint64_t done, std::uint64_t total, std::uint64_t items) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? double(items) / secs : 0;
  constexpr int width = 30;
  const double frac = total ? std::min(1.0, double(done) / double(total)) : 0;
  std::string bar(std::size_t(frac * width), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r%s [%s] %3d%%  %s %s  %.2f M/s  %.1f s ", label_.c_str(), bar.c_str(),
               int(frac * 100), group_digits(items).c_str(), unit_.c_str(), rate / 1e6, secs);
  std::fflush(stderr);
}

void progress_bar::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace stopgate::ctl
