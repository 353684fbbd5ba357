// Shared body of the per-carrier webhook fuzz targets (webhook_<carrier>_fuzz.cpp): feeds one
// input to the carrier's parse_inbound, parse_status and parse_send_response and aborts when
// a result is not well formed (a crash or sanitizer report is caught by libFuzzer itself).
//
// Input layout: byte 0 picks the content type, byte 1 (with byte 0) the HTTP status, the rest
// is "body 0x1f query 0x1f header-value" (the header value is sent as Retry-After and
// x-ratelimit-reset).
#pragma once

#include "carriers/wire/adapter.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace stopgate::fuzz {

inline bool known_status(std::string_view s) {
  for (std::string_view k : {"queued", "sending", "sent", "delivered", "read", "undelivered",
                             "failed", "canceled", "unknown"})
    if (s == k) return true;
  return false;
}

inline void check(bool ok) {
  if (!ok) std::abort();
}

inline int run_wire_fuzz(config::carrier_type type, const std::uint8_t* data, std::size_t size) {
  static constexpr std::string_view content_types[] = {
      "", "application/x-www-form-urlencoded", "application/json",
      "application/json; charset=utf-8", "text/plain", "application/vnd.x+json"};
  if (size < 2) return 0;
  std::string_view content_type = content_types[data[0] % std::size(content_types)];
  int status = 100 + (data[1] | (data[0] & 0x80 ? 256 : 0)) % 500;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string_view parts[3];
  for (auto& p : parts) {
    std::size_t sep = rest.find('\x1f');
    p = rest.substr(0, sep);
    rest = sep == std::string_view::npos ? std::string_view{} : rest.substr(sep + 1);
  }
  auto [body, query, header] = parts;

  if (auto m = carriers::parse_inbound(type, content_type, body, query)) {
    check(!m->carrier_message_id.empty() && !m->from.empty() && !m->to.empty());
    check(m->body.size() <= carriers::max_field_bytes);
  }
  if (auto u = carriers::parse_status(type, content_type, body, query)) {
    check(!u->carrier_message_id.empty() && known_status(u->status) && !u->raw_status.empty());
    check(!u->failure || u->status == "failed" || u->status == "undelivered");
  }
  carriers::header_list headers{{"Retry-After", std::string(header)},
                                {"x-ratelimit-reset", std::string(header)}};
  auto now = std::chrono::system_clock::time_point{std::chrono::seconds(1777636800)};
  carriers::send_outcome out = carriers::parse_send_response(type, status, headers, body, now);
  check(out.accepted != out.failure.has_value());
  check(out.error_message.size() <= carriers::max_error_message);
  check(!out.retry_after || (out.failure == carriers::failure_class::retryable &&
                             *out.retry_after >= std::chrono::milliseconds(0)));
  return 0;
}

}  // namespace stopgate::fuzz
