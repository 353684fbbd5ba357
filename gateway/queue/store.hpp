// The durable outbound queue in Redis (docs/QUEUE.md): queued `send`s wait here until they are
// due, shared by every gateway on the same Redis.
//
// The queue is split into shards; every key of one shard shares its hash tag, so every script
// runs on one Redis Cluster slot. One Redis: one shard "sg:q". A cluster: `queue.shards` shards
// "sg:q:0" ... spread over the slots, a message's shard chosen by its id.
//
//   {T}:due    sorted set  message id -> due time (ms): when it may be sent, or when the lease
//                          of the gateway holding it runs out
//   {T}:msg    hash        message id -> payload (JSON, queue_message)
//   {T}:state  hash        message id -> "queued" | "held|REASON" | "claimed|TOKEN"
//                          | "submitting|TOKEN" | "unknown|TOKEN"
//
// A claim takes the due messages of a shard atomically and gives each a token and a lease (its
// score becomes the lease's end). Only the token's holder may move the message on. A message
// whose lease ran out goes to the next claimant: re-checked and sent when its holder died
// before handing it to a carrier ("claimed"); ended `outcome_unknown`, never sent again, when
// its holder had begun the carrier request ("submitting").
//
// Rate limits live under "{sg:rl}" (one slot): one script books a send slot on every limit a
// message is under at once (per carrier, sender number and campaign, per second and minute).
#pragma once

#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::queue {

/// How a claimed message came to its claimant.
enum class claimed_kind {
  due,      // queued or held and now due (or its holder died before sending): check and send
  unknown,  // its holder began the carrier request and never reported: end outcome_unknown
};

struct claimed_message {
  std::string shard;  // its shard's tag (pass it back)
  std::string id;
  std::string payload;
  std::string token;
  claimed_kind kind = claimed_kind::due;
  std::string previous_state;  // "queued", "held|REASON", "claimed|..." (lease ran out)
};

/// What enqueue() did.
enum class enqueue_result { queued, full, duplicate };

/// Counts of one state ("held" split by reason).
struct state_count {
  std::string state;  // queued, held:REASON, claimed, submitting, unknown
  std::int64_t count = 0;
};

struct queue_stats {
  std::int64_t depth = 0;  // every message in the queue, whatever its state
  std::vector<state_count> states;
  std::int64_t oldest_due_ms = 0;  // the earliest due time (0: empty)
};

/// One rate limit a message is under: a key and its spacing.
struct rate_limit {
  std::string key;               // under "{sg:rl}:"
  std::int64_t spacing_us = 0;   // 1 s / rate, or 1 min / rate
};

/// Replica acknowledgement of a queue write (redis.min_replica_acks): the write goes out on
/// `client` (the worker's connection for acknowledged writes) followed by a WAIT; fewer
/// replicas than `replicas` within `timeout` is redis::errc::timeout (the write is on the
/// primary, but could be lost in a failover: the caller treats the outcome as not known).
struct replica_ack {
  redis::client* client = nullptr;
  unsigned replicas = 0;
  std::chrono::milliseconds timeout{500};
};

/// Stateless apart from its shape; every call takes the caller's client (used on its own
/// executor, the client's rule). Transport errors are redis::errc; an error reply or a reply of
/// the wrong shape is redis::errc::protocol.
class queue_store {
 public:
  /// `shards`: how many on a cluster client (one Redis always has one).
  queue_store(unsigned shards, std::uint64_t max_messages) noexcept
      : shards_(shards ? shards : 1), max_messages_(max_messages) {}

  /// The shard tags a client drains ("sg:q", or "sg:q:0" ... on a cluster).
  std::vector<std::string> shards(const redis::client& c) const;
  /// The shard of a message id.
  std::string shard_of(const redis::client& c, std::string_view id) const;

  /// Adds a message due at `due_ms` in state `state` ("queued" or "held|REASON").
  boost::asio::awaitable<boost::system::result<enqueue_result>> async_enqueue(
      redis::client& c, std::string_view id, std::string_view payload, std::string_view state,
      std::int64_t due_ms, const replica_ack* ack = nullptr) const;

  /// Claims up to `limit` messages of `shard` due at `now_ms`, each with a lease ending at
  /// `lease_end_ms` and a token starting with `token_prefix` (unique per claim).
  boost::asio::awaitable<boost::system::result<std::vector<claimed_message>>> async_claim(
      redis::client& c, std::string_view shard, std::int64_t now_ms, std::size_t limit,
      std::int64_t lease_end_ms, std::string_view token_prefix) const;

  /// Moves a message we hold (`token`) to `state` due at `due_ms`; with state "" it leaves the
  /// queue (sent, failed, cancelled, expired). States "submitting" and "claimed" keep the token
  /// ("submitting|TOKEN"). False when the message is no longer ours (the lease ran out and
  /// another gateway claimed it, or it was removed): then do nothing more with it.
  boost::asio::awaitable<boost::system::result<bool>> async_move(
      redis::client& c, std::string_view shard, std::string_view id, std::string_view token,
      std::string_view state, std::int64_t due_ms, const replica_ack* ack = nullptr) const;

  /// What async_remove found.
  struct removal {
    enum class kind { removed, absent, submitting } what = kind::absent;
    std::string payload;  // removed: the message's payload
  };
  /// Removes a message whatever holds it, unless a carrier request for it may be under way
  /// ("submitting", left alone).
  boost::asio::awaitable<boost::system::result<removal>> async_remove(redis::client& c,
                                                                      std::string_view id) const;

  /// Makes the listed messages due at `now_ms` (state "queued"): every one that is queued or
  /// held (`all`), or only those held as "campaign_paused". Messages claimed or being sent are
  /// left alone. Returns how many were moved.
  boost::asio::awaitable<boost::system::result<std::int64_t>> async_redue(
      redis::client& c, const std::vector<std::string>& ids, std::int64_t now_ms, bool all) const;
  /// The state of each listed message ("" when it is not in the queue), in order.
  boost::asio::awaitable<boost::system::result<std::vector<std::string>>> async_states(
      redis::client& c, const std::vector<std::string>& ids) const;

  /// Depth, states and the earliest due time over every shard (reads every state: an
  /// operator's question, not a per-request one).
  boost::asio::awaitable<boost::system::result<queue_stats>> async_stats(redis::client& c) const;
  /// Every message in the queue (ZCARD of each shard).
  boost::asio::awaitable<boost::system::result<std::int64_t>> async_depth(redis::client& c) const;

  /// Books the next send slot under every limit at once: >= 0 the slot is booked, send after
  /// that many µs; < 0 nothing booked (the next slot is further than `horizon_us`), try again
  /// in -value µs. An empty list is always 0.
  boost::asio::awaitable<boost::system::result<std::int64_t>> async_book(
      redis::client& c, const std::vector<rate_limit>& limits, std::int64_t now_us,
      std::int64_t horizon_us) const;

 private:
  unsigned shards_;
  std::uint64_t max_messages_;
};

}  // namespace stopgate::gateway::queue
