// Bandwidth Messaging API v2 wire format (docs/CARRIERS.md, "Bandwidth"): the JSON message
// POST, its answers, and the callbacks, which come as JSON arrays of events.
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>
#include <vector>

namespace stopgate::carriers::bandwidth {

/// POST {base_url}/api/v2/users/{accountId}/messages, JSON {applicationId, to: [to], from,
/// text, tag: message_id}; Bearer token when configured, else Basic username:password.
/// Precondition: `s` holds bandwidth_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 2xx (202) {id} is accepted. Errors {type, description}: 429 / 5xx retryable, the rest
/// permanent. Bandwidth reports opt-outs only asynchronously (message-failed 4775).
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// Most callbacks carry one event; an array may carry several. At most max_events.
inline constexpr std::size_t max_events = 64;

/// Every "message-received" event of the array (other types are skipped); ignored_event when
/// there is none.
boost::system::result<std::vector<inbound_message>> parse_inbound_events(
    std::string_view content_type, std::string_view body);
/// Every "message-delivered" / "message-failed" / "message-sending" event of the array.
boost::system::result<std::vector<status_update>> parse_status_events(
    std::string_view content_type, std::string_view body);

/// Event type to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view event_type) noexcept;

}  // namespace stopgate::carriers::bandwidth
