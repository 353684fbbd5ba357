#include "gateway/api/line_framer.hpp"

#include <algorithm>
#include <cstring>

namespace stopgate::gateway::api {

line_framer::line_framer(std::size_t max_line_bytes, std::size_t read_chunk)
    : max_(max_line_bytes), chunk_(std::max<std::size_t>(read_chunk, 64)) {}

std::span<char> line_framer::prepare() {
  if (begin_ == end_) begin_ = end_ = scanned_ = 0;
  if (cap_ - end_ < chunk_ && begin_ > 0) {
    // Move the partial line to the front so the buffer never needs more than one line + chunk.
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    scanned_ -= begin_;
    begin_ = 0;
  }
  if (cap_ - end_ < chunk_) {
    std::size_t want = std::max(cap_ * 2, end_ + chunk_);
    auto bigger = std::make_unique<char[]>(want);
    if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = want;
  }
  return {buf_.get() + end_, cap_ - end_};
}

namespace {

/// Only JSON whitespace (after the framer dropped one '\r'): no request, no answer.
bool is_blank(std::string_view line) noexcept {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

}  // namespace

frame_event line_framer::complete_line(std::size_t first, std::size_t last) noexcept {
  std::size_t n = last - first;
  if (n > 0 && buf_[last - 1] == '\r') --n;
  if (n > max_) return {frame_event::kind::too_long, {}};
  return {frame_event::kind::line, std::string_view(buf_.get() + first, n)};
}

frame_event line_framer::next() noexcept {
  while (begin_ < end_) {
    std::size_t from = std::max(begin_, scanned_);
    const void* nl = std::memchr(buf_.get() + from, '\n', end_ - from);
    if (!nl) {
      scanned_ = end_;
      if (discarding_) {
        begin_ = end_ = scanned_ = 0;
        break;
      }
      // Content plus a possible '\r' already exceeds the limit: report now, skip the rest.
      if (end_ - begin_ > max_ + 1) {
        discarding_ = true;
        begin_ = end_ = scanned_ = 0;
        return {frame_event::kind::too_long, {}};
      }
      break;
    }
    std::size_t pos = std::size_t(static_cast<const char*>(nl) - buf_.get());
    std::size_t first = begin_;
    begin_ = scanned_ = pos + 1;
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    frame_event ev = complete_line(first, pos);
    if (ev.what == frame_event::kind::line && is_blank(ev.line)) continue;
    return ev;
  }
  return {};
}

frame_event line_framer::finish() noexcept {
  if (discarding_ || begin_ == end_) {
    begin_ = end_ = scanned_ = 0;
    discarding_ = false;
    return {};
  }
  std::size_t first = begin_;
  std::size_t last = end_;
  begin_ = scanned_ = end_;
  frame_event ev = complete_line(first, last);
  if (ev.what == frame_event::kind::line && is_blank(ev.line)) return {};
  return ev;
}

}  // namespace stopgate::gateway::api
