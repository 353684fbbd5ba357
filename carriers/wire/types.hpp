// The carrier-neutral values every adapter's wire logic speaks: what we ask a carrier to send,
// the HTTP call that does it, what the carrier answered, and what its webhooks tell us.
//
// Adapters (carriers/<name>/wire.hpp) are pure functions between these values and the
// carrier's own bytes: no I/O, no clocks (time is a parameter), no global state. All of them
// are thread-safe and never throw on carrier input; bad webhook input becomes a wire_errc.
#pragma once

#include "carriers/failure_class.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::carriers {

/// HTTP headers as (name, value) pairs; names compare case-insensitively.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// One SMS to relay. Numbers are E.164 ("+14155552671"); `from` may also be a short code or
/// an alphanumeric sender id where the carrier allows it.
struct outbound_message {
  std::string to;
  std::string from;
  std::string body;
  std::string message_id;           // ours; used as the carrier's correlation key where it has one
  std::string status_callback_url;  // may be empty: the carrier's configured callback applies
};

/// The HTTP request an adapter wants sent. `content_type` goes in the Content-Type header;
/// `headers` holds the rest (authorization and carrier-specific ones).
struct http_call {
  std::string method;
  std::string url;
  header_list headers;
  std::string body;
  std::string content_type;
};

/// What a send attempt came to. When accepted, `failure` is empty; otherwise it says how the
/// relay handles it, and `retry_after` is the carrier's wish (Retry-After, rate-limit reset).
struct send_outcome {
  bool accepted = false;
  std::string carrier_message_id;
  std::string carrier_status;  // the carrier's own word for the initial state ("queued", "0")
  std::optional<failure_class> failure;
  std::string error_code;     // carrier error code, or "http_<status>" when it gave none
  std::string error_message;  // at most max_error_message bytes, valid UTF-8
  std::optional<std::chrono::milliseconds> retry_after;
};

/// An inbound SMS from a webhook. `from` is the consumer, `to` is our number, both as the
/// carrier wrote them (the gateway reads them with the carrier's settings); `body` holds the
/// carrier's bytes, which need not be UTF-8.
struct inbound_message {
  std::string carrier;  // the carrier type name ("twilio")
  std::string carrier_message_id;
  std::string from;
  std::string to;
  std::string body;
  /// The carrier's own keyword verdict (Twilio OptOutType, Plivo MessageIntent, Vonage
  /// keyword). Informational only: stopgate classifies the body itself.
  std::string carrier_intent;
};

/// A delivery-status callback. `to` is the recipient of our message, `from` our number, both
/// as the carrier wrote them.
struct status_update {
  std::string carrier;
  std::string carrier_message_id;
  std::string status;  // normalised: one of the status_* names below
  std::string raw_status;
  std::string error_code;
  /// Set for failed/undelivered updates: recipient_opted_out for the carrier's opt-out codes
  /// (Twilio 21610/63014, Telnyx 40300, Bandwidth 4775/4482, Vonage err-code 9, Plivo 200).
  std::optional<failure_class> failure;
  std::string to;
  std::string from;
};

/// Normalised delivery states (docs/CARRIERS.md has each carrier's table).
namespace status {
inline constexpr std::string_view queued = "queued";            // accepted, not yet handed on
inline constexpr std::string_view sending = "sending";          // on its way to the network
inline constexpr std::string_view sent = "sent";                // handed to the network
inline constexpr std::string_view delivered = "delivered";      // handset confirmed
inline constexpr std::string_view read = "read";                // read receipt (WhatsApp etc.)
inline constexpr std::string_view undelivered = "undelivered";  // the network could not deliver
inline constexpr std::string_view failed = "failed";            // never left the carrier
inline constexpr std::string_view canceled = "canceled";        // withdrawn before sending
inline constexpr std::string_view unknown = "unknown";          // a state we do not know
}  // namespace status

/// Why a webhook body could not become an inbound_message / status_update. The HTTP layer
/// answers ignored_event with 200 (nothing to do, do not retry) and the others with 400.
enum class wire_errc {
  bad_content_type = 1,  // not a media type this carrier sends for this webhook
  malformed_body,        // not valid urlencoding / JSON, or the wrong JSON shape
  duplicate_field,       // a field we read appears more than once (ambiguous)
  missing_message_id,    // the carrier's message id is absent or empty
  missing_from,          // the sender number is absent or empty
  missing_to,            // the recipient number is absent or empty
  missing_status,        // a status callback without a status
  field_too_long,        // a field exceeds max_field_bytes
  ignored_event,         // well formed, but an event this webhook does not act on
};

const boost::system::error_category& wire_category() noexcept;
inline boost::system::error_code make_error_code(wire_errc e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

/// Upper bound on any single field we keep from a webhook (a body is at most a few KiB of
/// concatenated SMS; ids and numbers are short). Longer is refused, not truncated.
inline constexpr std::size_t max_field_bytes = 16384;

/// Upper bound on send_outcome::error_message.
inline constexpr std::size_t max_error_message = 200;

}  // namespace stopgate::carriers

template <>
struct boost::system::is_error_code_enum<stopgate::carriers::wire_errc> : std::true_type {};
