// Vonage (Nexmo) SMS API wire format (docs/CARRIERS.md, "Vonage"): the /sms/json form POST,
// its always-200 answers with per-message status codes, and the inbound / DLR webhooks
// (GET query, POST form or POST-JSON). Pure functions; thread-safe; never throw on carrier
// input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>

namespace stopgate::carriers::vonage {

/// POST {base_url}/sms/json, form api_key, api_secret, from, to (both without '+'), text,
/// [type=unicode for non-ASCII text], client-ref = message_id, [callback].
/// Precondition: `s` holds vonage_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 200 {messages: [{status, message-id, error-text}]}: status "0" is accepted; 1, 5, 10
/// retryable; 7 (number barred) recipient_opted_out; any other permanent. Non-2xx: 429 / 5xx
/// retryable, the rest permanent.
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// Inbound SMS: msisdn (sender), to, messageId, text, keyword.
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// DLR: messageId, status, err-code, msisdn (the recipient), to (our sender).
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

/// DLR status to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view raw) noexcept;

}  // namespace stopgate::carriers::vonage
