// Twilio Programmable Messaging wire format (docs/CARRIERS.md, "Twilio"): the Messages.json
// form POST, its JSON answers and error codes, and the inbound / status form webhooks.
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>

namespace stopgate::carriers::twilio {

/// POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json, form To/From/Body
/// [/StatusCallback], Basic sid:token. Precondition: `s` holds twilio_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 201 {sid, status} is accepted. Errors {code, message}: 21610 recipient_opted_out;
/// 429 / 20429 / 5xx retryable (Retry-After honoured); the rest permanent.
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// Inbound form (POST body, or query for GET): MessageSid, From, To, Body, OptOutType.
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// Status callback form: MessageSid, MessageStatus, ErrorCode, From, To.
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

/// MessageStatus to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view raw) noexcept;

/// Error codes that mean "the recipient opted out": 21610 (sync), 21610 / 63014 (async).
bool is_opt_out_code(std::string_view code) noexcept;

}  // namespace stopgate::carriers::twilio
