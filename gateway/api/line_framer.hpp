// NDJSON framing for the socket API as a sans-I/O state machine.
//
// The connection reads straight into prepare(), reports the byte count with commit(), then
// drains next() until it returns need_more. A line ends at '\n'; one '\r' before it is
// dropped; blank lines (empty, or only spaces, tabs and '\r') are skipped. A line whose
// content is longer than max_line_bytes yields one too_long event and is skipped up to its
// newline, however many reads it spans: the outcome never depends on how the bytes were
// chunked. Memory is bounded by max_line_bytes + 2 + the read chunk. Not thread-safe (one per
// connection).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace stopgate::gateway::api {

struct frame_event {
  enum class kind { need_more, line, too_long };
  kind what = kind::need_more;
  /// The line without its terminator (kind::line). Valid until the next prepare().
  std::string_view line;
};

class line_framer {
 public:
  explicit line_framer(std::size_t max_line_bytes, std::size_t read_chunk = 16384);

  /// Applies from the next line on (a reload); a line being discarded stays discarded.
  void set_max_line_bytes(std::size_t n) noexcept { max_ = n; }
  std::size_t max_line_bytes() const noexcept { return max_; }

  /// Free space to read into (never empty). Invalidates lines returned earlier.
  std::span<char> prepare();
  /// `n` bytes were written at the start of the span prepare() returned.
  void commit(std::size_t n) noexcept { end_ += n; }

  /// The next complete line or too_long event; need_more when the buffer holds no more.
  frame_event next() noexcept;
  /// At end of input: the unterminated last line as a line (or too_long), else need_more.
  frame_event finish() noexcept;

  /// Bytes held for an incomplete line.
  std::size_t buffered() const noexcept { return end_ - begin_; }

 private:
  frame_event complete_line(std::size_t first, std::size_t last) noexcept;

  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;    // start of the first unconsumed byte
  std::size_t end_ = 0;      // end of valid data
  std::size_t scanned_ = 0;  // bytes before this hold no '\n' (from begin_)
  std::size_t max_;
  std::size_t chunk_;
  bool discarding_ = false;  // skipping the rest of a too-long line
};

}  // namespace stopgate::gateway::api
