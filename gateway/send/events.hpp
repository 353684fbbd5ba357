// Message status events for the campaign system (docs/QUEUE.md, "Status events"): every step of
// a message's life that the campaign system cares about (queued, sent, failed, unknown,
// cancelled, expired, and the carrier's delivery statuses), appended to a Redis stream per API
// key, read with the `events` op from a cursor the client keeps. Kept 7 days.
//
//   {sg:ev:KEY}   stream  fields: message_id status at [campaign] [carrier] [error_code]
//
// KEY is the API key's name ("-" when no keys are configured). The stream is in Redis, so the
// events survive a gateway restart, and every gateway sharing the Redis serves every event.
#pragma once

#include "config/settings.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::send {

/// How long events are kept (the stream is trimmed to this age as events are added).
inline constexpr std::chrono::hours event_retention{24 * 7};

struct status_event {
  std::string id;  // the stream id (the cursor), set when read
  std::string message_id;
  std::string status;  // queued, sent, failed, unknown, cancelled, expired, delivered, ...
  std::string at;      // RFC 3339
  std::string campaign, carrier, error_code;
};

/// The stream key of an API key's events.
std::string events_key(std::string_view api_key);

/// Appends `e` to the events of `api_key`, trimming events older than event_retention. A
/// failure is logged and the event is lost (the message's state stays in the message store and
/// the evidence log); the caller goes on.
/// When `sender` has a status_url, the event is also appended to its hook stream
/// (gateway/send/status_hooks.hpp), in the same round trip.
boost::asio::awaitable<void> emit_event(redis::client& c, std::string_view api_key,
                                        const status_event& e,
                                        const config::sender_settings* sender = nullptr);

/// Up to `max` events of `api_key` after the cursor `after` ("0": from the oldest kept).
boost::asio::awaitable<boost::system::result<std::vector<status_event>>> read_events(
    redis::client& c, std::string_view api_key, std::string_view after, std::size_t max);

/// A valid cursor: "0", or a stream id "MS-SEQ".
bool valid_cursor(std::string_view s) noexcept;

}  // namespace stopgate::gateway::send
