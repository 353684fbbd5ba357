// Shared body of the per-carrier webhook fuzz targets (webhook_<carrier>_fuzz.cpp): feeds one
// input to the carrier's parse_inbound, parse_status and parse_send_response, then every
// parsed number and text through what the gateway does with them (the inbound number reading
// with both default countries, the lossless recording of text that is not UTF-8, the evidence
// log's canonical form), and aborts when a result is not well formed (a crash or sanitizer
// report is caught by libFuzzer itself).
//
// Input layout: byte 0 picks the content type, byte 1 (with byte 0) the HTTP status, the rest
// is "body 0x1f query 0x1f header-value" (the header value is sent as Retry-After and
// x-ratelimit-reset).
#pragma once

#include "carriers/signature/crypto.hpp"
#include "carriers/wire/adapter.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/webhooks/carrier_number.hpp"
#include "gateway/webhooks/carrier_text.hpp"

#include <boost/json/object.hpp>

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

// A carrier's number as the gateway reads it: E.164 that reads back as itself, or kept as
// sent with a reason; recorded in a form the evidence log accepts.
inline void check_number(std::string_view raw) {
  namespace wh = gateway::webhooks;
  for (std::string_view country : {"1", ""}) {
    const wh::carrier_number n = wh::read_carrier_number(raw, country);
    if (n.is_number()) {
      check(n.text == n.number.e164());
      auto strict = dnc::model::parse_e164(n.text);
      check(strict && *strict == n.number);
      // A +1 number is one the socket API's lenient parser reads the same.
      if (n.number.is_nanp()) {
        auto lenient = dnc::model::parse_phone(n.text);
        check(lenient && *lenient == n.number);
      }
      const wh::carrier_number again = wh::read_carrier_number(n.text, country);
      check(again.is_number() && again.number == n.number);
    } else {
      check(!n.why.empty() && n.text.size() <= raw.size());
    }
    boost::json::object rec;
    wh::put_number(rec, "from", raw, n);
    std::string out;
    check(evidence::append_canonical(out, rec));
  }
}

// A carrier's text recorded losslessly: valid UTF-8 for the log, the bytes recoverable.
inline void check_text(std::string_view raw) {
  namespace wh = gateway::webhooks;
  boost::json::object rec;
  wh::put_text(rec, "body", raw);
  std::string out;
  check(evidence::append_canonical(out, rec));
  const auto* b64 = rec.if_contains("body_b64");
  check((b64 == nullptr) == wh::is_utf8(raw));
  if (b64 == nullptr) {
    check(rec.at("body").as_string() == raw);
  } else {
    auto bytes = carriers::signature::base64_decode(b64->as_string());
    check(bytes && *bytes == raw);
  }
  check(wh::is_utf8(wh::utf8_from_latin1_bytes(raw)));
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

  if (auto ms = carriers::parse_inbound(type, content_type, body, query)) {
    check(!ms->empty());
    for (const auto& m : *ms) {
      check(!m.carrier_message_id.empty() && !m.from.empty() && !m.to.empty());
      check(m.body.size() <= carriers::max_field_bytes);
      check_number(m.from);
      check_number(m.to);
      check_text(m.body);
      check_text(m.carrier_message_id);
    }
  }
  if (auto us = carriers::parse_status(type, content_type, body, query)) {
    check(!us->empty());
    for (const auto& u : *us) {
      check(!u.carrier_message_id.empty() && known_status(u.status) && !u.raw_status.empty());
      check(!u.failure || u.status == "failed" || u.status == "undelivered");
      check_number(u.to);
      check_number(u.from);
      check_text(u.raw_status);
    }
  }
  // The body itself as a number and as text: inputs no carrier format would let through.
  check_number(body.substr(0, 32));
  check_text(body);
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
