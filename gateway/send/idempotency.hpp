// Idempotency keys of the `send` op, in Redis so that they hold across restarts and across
// every gateway sharing the Redis (docs/SEND.md, "Idempotency").
//
//   stopgate:send:idem:SENDER:KEY   string, EX 86400
//     {"state":"pending","message_id":...,"started":µs}   claimed, outcome not known yet
//     {"state":"done","response":{...}}                     the first request's answer
//
// A key is claimed with SET NX before anything is checked or sent, so only one request per
// (sender, key) ever reaches a carrier. Keys are scoped per sender.
#pragma once

#include "dnc/model/facts.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace stopgate::gateway::send {

struct idempotency_options {
  std::chrono::seconds key_ttl{86400};
  /// A repeat finding the key pending polls it for at most this long.
  std::chrono::milliseconds wait_max{30000};
  std::chrono::milliseconds poll_interval{20};
  /// A pending claim older than this was left by a gateway that stopped mid-send (the
  /// relay's own deadlines are far shorter): its outcome is unknown and it is never re-sent.
  std::chrono::seconds stale_after{300};
};

/// What claiming a key came to.
struct claim {
  enum class kind {
    claimed,      // ours: go on, then complete() or release()
    done,         // the first request's answer is in `response`
    stale,        // left pending by a gateway that stopped: outcome unknown, never re-sent
    in_progress,  // still pending after wait_max: the first request is still running
  };
  kind what = kind::claimed;
  boost::json::object response;
  std::string message_id;  // the first request's (done, stale, in_progress)
  /// claimed by the very first SET, without waiting for another request (facts read
  /// alongside the claim are then as fresh as the claim itself).
  bool first_try = true;
};

/// What replaces a carrier's error message in an answer stored before a forget.
inline constexpr std::string_view forgotten_text = "erased by forget";

/// A key is 1-128 bytes of printable ASCII without spaces.
bool valid_idempotency_key(std::string_view key) noexcept;

/// Not thread-safe: use on the client's executor. Completions never run inline. Errors are
/// the client's transport errors (the op answers store_unavailable and sends nothing), or
/// redis::errc::protocol for a reply it did not expect.
class idempotency {
 public:
  idempotency(redis::client& c, idempotency_options opts = {}) noexcept : c_(c), opts_(opts) {}

  /// Claims (sender, key) for `message_id` at `now`, or reports the first request's state
  /// (waiting up to wait_max while it is pending).
  boost::asio::awaitable<boost::system::result<claim>> async_claim(std::string_view sender,
                                                                   std::string_view key,
                                                                   std::string_view message_id,
                                                                   dnc::model::sys_time now);
  /// Stores the final answer of a claimed key (keeps the key's remaining TTL).
  boost::asio::awaitable<boost::system::error_code> async_complete(
      std::string_view sender, std::string_view key, const boost::json::object& response);
  /// Drops our claim when the request ended without an outcome (bad input, Redis down before
  /// anything was sent), so that the client's retry is handled afresh. Only a claim still
  /// pending for `message_id` is removed.
  boost::asio::awaitable<boost::system::error_code> async_release(std::string_view sender,
                                                                  std::string_view key,
                                                                  std::string_view message_id);

  /// For forget: the stored answer keeps its status, ids and codes (a repeat still sends
  /// nothing) but loses its free text, the error message a carrier wrote (which may quote the
  /// number), replaced by forgotten_text. True when something was replaced. A key that is
  /// pending, gone or changed meanwhile is left as it is.
  boost::asio::awaitable<boost::system::result<bool>> async_scrub(std::string_view sender,
                                                                  std::string_view key);

 private:
  redis::client& c_;
  idempotency_options opts_;
};

}  // namespace stopgate::gateway::send
