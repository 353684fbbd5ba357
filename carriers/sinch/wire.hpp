// Sinch SMS REST API ("xms") wire format (docs/CARRIERS.md, "Sinch"): the batches JSON POST,
// its answers, MO callbacks and delivery reports.
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <string_view>
#include <vector>

namespace stopgate::carriers::sinch {

/// POST {base_url}/xms/v1/{service_plan_id}/batches, JSON {from, to: [to], body,
/// client_reference: message_id, delivery_report: "per_recipient" [, callback_url]}, Bearer
/// api token. Precondition: `s` holds sinch_credentials.
http_call build_send(const config::carrier_settings& s, const outbound_message& msg);

/// 2xx {id} (the batch id) is accepted. Errors {code, text}: 429 / 5xx retryable, the rest
/// permanent.
send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// MO callback of type "mo_text": id, from, to, body. mo_binary / mo_media are ignored_event.
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);

/// Upper bound on the updates of one delivery report; more is malformed_body.
inline constexpr std::size_t max_updates = 64;

/// "recipient_delivery_report_sms" (batch_id, recipient, status, code): one update.
/// "delivery_report_sms" (batch_id, statuses[]): one update per recipient of each status, or
/// one per status that lists none (`to` empty).
boost::system::result<std::vector<status_update>> parse_status_updates(
    std::string_view content_type, std::string_view body);

/// Delivery report status to the normalised vocabulary (carriers::status).
std::string_view normalise_status(std::string_view raw) noexcept;

}  // namespace stopgate::carriers::sinch
