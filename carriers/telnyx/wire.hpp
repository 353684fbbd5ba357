// Telnyx Messaging API v2 wire format (docs/CARRIERS.md, "Telnyx"): the /v2/messages JSON
// POST, its answers and error codes, and the message.* JSON webhooks.
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>

namespace stopgate::carriers::telnyx {

/// POST {base_url}/v2/messages, JSON {from, to, text[, webhook_url]}, Bearer api key.
/// Precondition: `s` holds telnyx_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 2xx {data: {id, to: [{status}]}} is accepted. Errors {errors: [{code, title, detail}]}:
/// code 40300 recipient_opted_out (whatever the HTTP status); 429 / 10011 / 5xx retryable
/// (Retry-After, else x-ratelimit-reset); the rest permanent.
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// JSON event with data.event_type "message.received"; other events are ignored_event.
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// JSON event "message.sent" or "message.finalized": data.payload.to[0].status and
/// data.payload.errors[].code; other events are ignored_event.
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

/// to[].status to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view raw) noexcept;

}  // namespace stopgate::carriers::telnyx
