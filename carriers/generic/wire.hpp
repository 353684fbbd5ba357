// The generic `http` carrier (docs/CARRIERS.md, "Generic HTTP"): a JSON POST to a configured
// URL, and a small JSON webhook format of our own for inbound messages and statuses. The
// sandbox carrier uses the same webhook format. Pure functions; thread-safe; never throw on
// carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>

namespace stopgate::carriers::generic {

/// POST {url}, JSON {to, from, body, message_id [, status_callback_url]}, plus the
/// configured headers in order. Precondition: `s` holds http_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// Any 2xx is accepted; a JSON body may give {"id" (or "message_id"), "status"}. Errors:
/// {"error": {"code", "message"}} (or the same keys at top level); code
/// "recipient_opted_out" is recipient_opted_out (any status); otherwise 408 / 429 / 5xx
/// retryable (Retry-After honoured) and the rest permanent.
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// {"message_id", "from", "to", "body" [, "intent"]} (JSON).
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// {"message_id", "status" [, "error_code", "to", "from"]} (JSON). `status` uses stopgate's
/// own vocabulary; error_code "recipient_opted_out" marks an opt-out.
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

/// The two parsers above with another carrier name in the result (the sandbox's).
boost::system::result<inbound_message> parse_inbound_as(std::string_view carrier,
                                                        std::string_view content_type,
                                                        std::string_view body);
boost::system::result<status_update> parse_status_as(std::string_view carrier,
                                                     std::string_view content_type,
                                                     std::string_view body);

/// A status in stopgate's vocabulary stays; anything else is "unknown".
std::string_view normalise_status(std::string_view raw) noexcept;

/// The error code that means "the recipient opted out" in this format.
inline constexpr std::string_view opted_out_code = "recipient_opted_out";

}  // namespace stopgate::carriers::generic
