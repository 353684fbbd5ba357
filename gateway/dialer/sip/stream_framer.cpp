#include "gateway/dialer/sip/stream_framer.hpp"

#include "gateway/dialer/sip/message.hpp"

#include <cstring>
#include <string_view>

namespace stopgate::gateway::dialer::sip {

std::span<char> stream_framer::prepare() {
  constexpr std::size_t chunk = 4096;
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ < chunk && begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < chunk) buf_.resize(end_ + chunk);
  return {buf_.data() + end_, buf_.size() - end_};
}

stream_framer::status stream_framer::next(std::span<char>& out) {
  while (begin_ < end_ && (buf_[begin_] == '\r' || buf_[begin_] == '\n')) ++begin_;
  std::string_view data(buf_.data() + begin_, end_ - begin_);
  if (data.empty()) return status::need_more;
  // The end of the headers: CRLFCRLF, or bare LFs from lenient peers.
  std::size_t head_end = std::string_view::npos;
  for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') {
      head_end = i + 2;
      break;
    }
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') {
      head_end = i + 3;
      break;
    }
  }
  if (head_end == std::string_view::npos)
    return data.size() > max_ ? status::too_large : status::need_more;
  // Content-Length (or its compact form "l") among the header lines.
  std::size_t length = 0;
  std::string_view head = data.substr(0, head_end);
  for (std::size_t pos = head.find('\n'); pos != std::string_view::npos && pos + 1 < head.size();
       pos = head.find('\n', pos + 1)) {
    std::string_view line = head.substr(pos + 1, head.find('\n', pos + 1) - pos - 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (identify(name) != header_id::content_length) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ' || v.back() == '\t'))
      v.remove_suffix(1);
    if (v.empty() || v.size() > 9) return status::bad_length;
    length = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return status::bad_length;
      length = length * 10 + std::size_t(c - '0');
    }
  }
  if (head_end + length > max_) return status::too_large;
  if (data.size() < head_end + length) return status::need_more;
  out = std::span<char>(buf_.data() + begin_, head_end + length);
  begin_ += head_end + length;
  return status::message;
}

}  // namespace stopgate::gateway::dialer::sip
