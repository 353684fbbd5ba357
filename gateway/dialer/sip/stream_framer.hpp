// Frames SIP messages off a TCP byte stream (RFC 3261 18.3): CRLFs between messages are
// skipped (keep-alives), the headers end at the first blank line and Content-Length says how
// much body follows (0 when absent). A message longer than the limit is an error: the stream
// cannot be resynchronised, so the connection is closed. Sans-I/O; not thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace stopgate::gateway::dialer::sip {

class stream_framer {
 public:
  enum class status { need_more, message, too_large, bad_length };

  explicit stream_framer(std::size_t max_message_bytes) : max_(max_message_bytes) {}

  /// Room to read into (at least 4 KiB).
  std::span<char> prepare();
  void commit(std::size_t n) noexcept { end_ += n; }

  /// The next whole message: status::message with `out` pointing at its bytes (valid, and
  /// writable, until the next prepare()), else need_more or an error.
  status next(std::span<char>& out);

 private:
  std::string buf_;
  std::size_t begin_ = 0, end_ = 0;
  std::size_t max_;
};

}  // namespace stopgate::gateway::dialer::sip
