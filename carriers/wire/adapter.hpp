// One entry point per wire operation for any carrier type: the relay and the webhook
// handlers call these with the carrier's settings (or type) and never name a carrier; each
// looks up the carrier's row (carriers/dialect.hpp).
// Pure functions; thread-safe; never throw on carrier input.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace stopgate::carriers {

/// The HTTP request for `msg`; nullopt for the sandbox, which appends
/// sandbox::outbox_line() to its outbox instead. Precondition: s.credentials matches s.type
/// (the config loader guarantees it).
std::optional<http_call> build_send(const config::carrier_settings& s,
                                    const outbound_message& msg);

/// The carrier's answer to build_send's request as a send_outcome. `now` resolves a
/// Retry-After HTTP-date. For the sandbox (no HTTP) this reads the generic format.
send_outcome parse_send_response(config::carrier_type type, int status,
                                 const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now);

/// Every inbound message of the carrier's inbound-message webhook, in order (Bandwidth posts
/// an array of events; the others one message per request). `query` is the raw query string
/// (GET webhooks). ignored_event when the request holds none.
boost::system::result<std::vector<inbound_message>> parse_inbound(config::carrier_type type,
                                                                  std::string_view content_type,
                                                                  std::string_view body,
                                                                  std::string_view query);

/// Every update of the carrier's delivery-status webhook, in order (Bandwidth: each event of
/// the array; Sinch: each recipient of each status of a batch report). ignored_event when the
/// request holds none.
boost::system::result<std::vector<status_update>> parse_status(config::carrier_type type,
                                                               std::string_view content_type,
                                                               std::string_view body,
                                                               std::string_view query);

}  // namespace stopgate::carriers
