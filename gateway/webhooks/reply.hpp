// A queued reply to an inbound message (opt-out confirmation, HELP or START reply) as it
// travels through the Redis reply queue, and what sending it came to.
#pragma once

#include "config/settings.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::gateway {
struct worker;
}

namespace stopgate::gateway::webhooks {

struct reply_item {
  std::string id;       // "r_" + 16 hex; also the relay's message id
  std::string kind;     // "optout", "help", "optin"
  std::string carrier;  // the carrier config name the inbound message came in on (the route)
  std::string sender;
  std::string from;  // our number the consumer wrote to
  std::string to;    // the consumer
  std::string body;
  std::string inbound_evidence_id;
  std::int64_t created_ms = 0;   // when the inbound message was received (unix ms)
  std::int64_t deadline_ms = 0;  // give up after this (created + the 5-minute budget)
};

/// Compact JSON; decode_reply(encode_reply(r)) == r. Pure.
std::string encode_reply(const reply_item& r);
/// nullopt for anything encode_reply did not write.
std::optional<reply_item> decode_reply(std::string_view json);

enum class send_verdict {
  sent,     // the carrier accepted it
  retry,    // failed, and provably not accepted (retryable): may be tried again
  failed,   // failed for good (permanent, opted out at the carrier, no such carrier)
  unknown,  // the carrier may have accepted it (e.g. a timeout after sending): never resent
};

/// Sends one reply through the carrier it names (route = {item.carrier}), bypassing policy
/// checks. Called on the thread of the worker it is given (its relay); completes on it.
using reply_sender = std::function<boost::asio::awaitable<send_verdict>(
    const config::settings&, const reply_item&, gateway::worker&)>;

}  // namespace stopgate::gateway::webhooks
