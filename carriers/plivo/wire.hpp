// Plivo Message API wire format (docs/CARRIERS.md, "Plivo"): the JSON Message POST, its
// answers, and the inbound / status form webhooks (POST form or GET query).
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>

namespace stopgate::carriers::plivo {

/// POST {base_url}/v1/Account/{auth_id}/Message/, JSON {src, dst (both without '+'), text
/// [, url]}, Basic auth_id:auth_token. Precondition: `s` holds plivo_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 2xx (202) {message_uuid: [id]} is accepted. Errors {error}: 429 / 5xx retryable, the rest
/// permanent. Plivo reports opt-outs only asynchronously (ErrorCode 200).
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// Inbound form: From, To, Text (Body for MMS), MessageUUID, MessageIntent.
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// Status form: MessageUUID, Status, ErrorCode, To, From.
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

/// Status to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view raw) noexcept;

}  // namespace stopgate::carriers::plivo
