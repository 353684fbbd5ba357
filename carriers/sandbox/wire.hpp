// The sandbox carrier (docs/CARRIERS.md, "Sandbox"): no HTTP; a send becomes one JSON line
// for DATA_DIR/outbox.jsonl. Its webhooks use the generic carrier's JSON format.
// Pure functions; thread-safe.
#pragma once

#include "carriers/wire/types.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace stopgate::carriers::sandbox {

/// The carrier message id the sandbox gives a message: "sandbox-" + our message id.
std::string carrier_message_id(const outbound_message& msg);

/// One outbox line, '\n'-terminated: {"ts" (RFC 3339 UTC, milliseconds), "carrier_message_id",
/// "message_id", "to", "from", "body" [, "status_callback_url"]}. JSON-escaped, so a body
/// with newlines stays on one line.
std::string outbox_line(const outbound_message& msg, std::chrono::system_clock::time_point now);

/// The outcome of a successful append: accepted, status "queued".
send_outcome accepted_outcome(const outbound_message& msg);

/// generic::parse_inbound_as("sandbox", ...).
boost::system::result<inbound_message> parse_inbound(std::string_view content_type,
                                                     std::string_view body,
                                                     std::string_view query);
/// generic::parse_status_as("sandbox", ...).
boost::system::result<status_update> parse_status(std::string_view content_type,
                                                  std::string_view body, std::string_view query);

}  // namespace stopgate::carriers::sandbox
