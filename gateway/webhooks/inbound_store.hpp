// The Redis side of inbound webhooks: the per-message idempotency claim, and the durable
// reply queue that carries opt-out confirmations, HELP and START replies to the drainers.
// docs/WEBHOOKS.md has the key schema and the scripts' contracts.
//
// Every key of one message shares one hash tag, its "home", so each script runs on one Redis
// Cluster slot and the last step of a webhook (opt-out written, reply enqueued, 24 h
// confirmation marker set, message marked done) is one atomic script. On one Redis the home
// is always "sg:in" ({sg:in}:q, {sg:in}:id:..., as before). On a cluster the home of a message
// from a readable number is its slot's tag "c:sN" (the slot of the number's contact keys), so
// the script also holds the opt-out; the reply queue is then one queue per slot, found by the
// drainers through the index {sg:in}:due (home -> earliest due) and a periodic sweep.
#pragma once

#include "dnc/contacts/store.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::webhooks {

/// The home of everything on one Redis, and on a cluster of messages from no readable number.
inline constexpr std::string_view default_home = "sg:in";

/// The home of a message from `from`: on a cluster client its slot's tag "c:sN" (the slot of
/// its contact keys and their change stream), else default_home.
std::string home_of(const dnc::contacts::contact_store& contacts,
                    const std::optional<dnc::model::phone_number>& from);

/// The idempotency key of one inbound message: carrier config name, our number and the
/// carrier's message id, hashed (ids may be long): "{sg:in}:id:<64 hex>" at the default home,
/// "{c:sN}:in:id:<64 hex>" at a slot's.
std::string message_key(std::string_view home, std::string_view carrier, std::string_view to,
                        std::string_view carrier_message_id);

/// The 24 h "confirmation sent" marker of (consumer number, sender): "{sg:in}:m:<64 hex>" (or
/// "{c:sN}:in:m:<64 hex>"). The hex is SHA-256 of the pair: it keeps numbers out of key
/// listings, it is not a secret.
std::string marker_key(std::string_view home, std::string_view number, std::string_view sender);

enum class claim_state {
  claimed,      // ours now: apply the message, then finish() or release()
  in_progress,  // another delivery of the same message is being applied right now
  done,         // already applied: acknowledge, change nothing
};

/// What finish() did with the reply.
enum class enqueue_state : std::uint8_t {
  none,        // no reply asked for
  queued,      // the reply is in the queue
  suppressed,  // an opt-out confirmation already went to this number+sender within 24 h
  full,        // the queue is at its bound: the reply was dropped (the effects stand)
  already,     // the message was finished meanwhile by another delivery (nothing queued)
};

/// A reply to queue with finish(): the item id, its due time and the JSON payload.
struct reply_to_queue {
  std::string id;
  std::int64_t due_ms = 0;
  std::string payload;  // "" = no reply
  std::string marker;   // marker_key(); "" = no 24 h marker (HELP, START)
};

/// One queue item handed to a drainer.
struct claimed_reply {
  std::string home;  // the queue it came from (pass it back to complete / retry)
  std::string id;
  std::string payload;
  /// The item was already being sent by a drainer that never reported (it crashed or lost
  /// Redis): the outcome of that attempt is unknown.
  bool was_sending = false;
};

struct inbound_store_options {
  std::chrono::milliseconds claim_ttl{30000};        // a claim lapses if its holder dies
  std::chrono::milliseconds done_ttl{48 * 3600000};  // carriers retry for up to ~24 h
  std::chrono::milliseconds marker_ttl{24 * 3600000};
  std::chrono::milliseconds lease{600000};  // an item being sent is hidden this long
  /// Bound of one queue (on a cluster: of each slot's queue).
  std::size_t max_queue = 100000;
  /// Claim with one `SET ... NX PX ... GET` (Redis >= 7.0; a refusal switches to the script
  /// for good). false: always the Lua script (tests of that path).
  bool native_claim = true;
};

/// Stateless apart from the options: every call takes the caller's client. Use a client on
/// its own executor (the client's rule). Transport errors are redis::errc; an error reply is
/// redis_error (below).
class inbound_store {
 public:
  explicit inbound_store(inbound_store_options o = {}) : opts_(o) {}

  /// Claims `key` for `token` atomically (SET-if-absent with claim_ttl): one native command, or
  /// a Lua script on servers older than 7.0.
  boost::asio::awaitable<boost::system::result<claim_state>> async_claim(
      redis::client& c, std::string_view key, std::string_view token) const;
  /// Drops our claim (only if it is still ours), so a retry of the message can apply it.
  boost::asio::awaitable<boost::system::error_code> async_release(redis::client& c,
                                                                  std::string_view key,
                                                                  std::string_view token) const;
  /// Atomically: enqueue the reply (unless suppressed by its marker, or the queue is full),
  /// set the marker, and mark the message done for done_ttl. `key` and the marker are keys of
  /// `home`.
  boost::asio::awaitable<boost::system::result<enqueue_state>> async_finish(
      redis::client& c, std::string_view home, std::string_view key,
      const reply_to_queue& r) const;

  /// The same as async_finish, run in one Lua script right after recording the opt-out
  /// (dnc::contacts::contact_store::async_record_optout_then): the opt-out, the reply, the marker
  /// and `done` are applied together, or the finishing part not at all.
  boost::asio::awaitable<boost::system::result<enqueue_state>> async_finish_optout(
      dnc::contacts::contact_store& contacts, dnc::model::phone_number from, std::string_view scope,
      dnc::model::sys_time at, std::string_view source, std::string_view evidence_id,
      std::string_view home, std::string_view key, const reply_to_queue& r) const;

  /// Claims up to `limit` items due at `now_ms`: each is marked as being sent and hidden for
  /// the lease. Atomic per queue, so two drainers never claim the same item. On a cluster
  /// client: from the default home's queue and those the index says are due.
  boost::asio::awaitable<boost::system::result<std::vector<claimed_reply>>> async_claim_due(
      redis::client& c, std::int64_t now_ms, std::size_t limit) const;
  /// Removes an item (sent, or given up).
  boost::asio::awaitable<boost::system::error_code> async_complete(redis::client& c,
                                                                   std::string_view home,
                                                                   std::string_view id) const;
  /// Puts an item back, due at `due_ms` (a failure that proves the carrier did not take it).
  boost::asio::awaitable<boost::system::error_code> async_retry(redis::client& c,
                                                                std::string_view home,
                                                                std::string_view id,
                                                                std::int64_t due_ms) const;
  /// Items in the default home's queue (due or not, including those being sent): on one Redis,
  /// the whole queue. On a cluster the depth comes from async_sweep.
  boost::asio::awaitable<boost::system::result<std::int64_t>> async_depth(redis::client& c) const;

  struct sweep_result {
    std::size_t queues = 0;  // slot queues found non-empty (and listed in the index)
    std::int64_t depth = 0;  // items in every queue, the default home's included
  };
  /// Cluster only: reads the head of every slot's queue (16,384, pipelined by node) and lists
  /// each non-empty one in the index with its earliest due time. Repairs what a race between a
  /// drainer emptying a queue and a webhook filling it may leave out of the index.
  boost::asio::awaitable<boost::system::result<sweep_result>> async_sweep(redis::client& c) const;

  const inbound_store_options& options() const noexcept { return opts_; }

 private:
  struct finish_call;
  inbound_store_options opts_;
};

/// For the `forget` op: removes every queued reply addressed to `number` (E.164; its payload
/// holds the number) from the queue of `home` (home_of the number), sent or not yet, and
/// deletes the 24 h confirmation markers of the number for each of `senders`. Returns the ids
/// of the removed replies. Scans the queue's items (bounded by max_queue) in one script.
boost::asio::awaitable<boost::system::result<std::vector<std::string>>> async_forget_number(
    redis::client& c, std::string_view home, std::string_view number,
    std::span<const std::string> senders);

}  // namespace stopgate::gateway::webhooks
