// The Redis client on one Asio executor, commands and pipelines as awaitables with a
// deadline each: one hiredis async connection for a single server (tcp://, unix://) or the
// primary a Sentinel names (sentinel://), or one connection per primary of a Redis Cluster
// (cluster://) with commands routed by key. The caller's code is the same for all three.
// Also brings in pipeline and subscriber.
//
//   redis::client c(io.get_executor(), {.ep = *redis::parse_url("unix:///var/redis.sock")});
//   c.start();
//   co_await c.async_wait_connected(1s);
//   auto r = co_await c.async_exec({"SISMEMBER", key, member});   // result<reply>
#pragma once

#include "redis/error.hpp"
#include "redis/options.hpp"
#include "redis/pipeline.hpp"
#include "redis/reply.hpp"
#include "redis/routing.hpp"
#include "redis/stats.hpp"
#include "redis/subscriber.hpp"
#include "redis/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stopgate::redis {

namespace detail {
class connection;
class cluster;
class sentinel_watch;
}  // namespace detail

/// With enable_tracking on a cluster: how often the slot map is loaded and compared (a change
/// drops the cache; Redis 7.0 can hand a slot over without invalidating anything).
inline constexpr std::chrono::milliseconds tracking_map_check{1000};

/// The arguments of one command, written as a braced list: `co_await c.async_exec({"GET", key})`.
/// Views of the caller's strings (1 to 16 of them; more through the span overload), read
/// before the first suspension. This type stands where std::initializer_list would: GCC 12
/// rejects a braced initializer_list inside a co_await expression ("array used as
/// initializer"), and a class with a variadic constructor does not create that array.
/// On a cluster the command goes to the node of its key: by the rule of route_of()
/// (routing.hpp), or the argument named with key_at():
/// `c.async_exec(redis::command_args("OBJECT", "FREQ", key).key_at(2))`.
class command_args {
 public:
  static constexpr std::size_t capacity = 16;
  template <class... T>
  requires(sizeof...(T) >= 1 && sizeof...(T) <= capacity &&
           (std::is_convertible_v<const T&, std::string_view> && ...))
      command_args(const T&... args)
  noexcept  // NOLINT: implicit by design
      : views_{std::string_view(args)...}, size_(sizeof...(T)) {}
  std::span<const std::string_view> span() const noexcept { return {views_.data(), size_}; }
  /// Names argument `i` as the routing key (no_key: none). An index past the last argument
  /// makes async_exec fail with errc::bad_command.
  command_args& key_at(key_index i) noexcept {
    key_ = i;
    return *this;
  }
  key_index key() const noexcept { return key_; }

 private:
  std::array<std::string_view, capacity> views_;
  std::size_t size_;
  key_index key_ = key_by_rule;
};

/// A Redis client driven on one executor (an io_context used by one thread, or a strand):
/// one connection (tcp, unix, sentinel endpoints) or one per cluster primary (cluster).
/// Not thread-safe: construct, call and destroy it on that executor only, and destroy it
/// before its io_context. Awaitables complete through the executor, never inline inside
/// hiredis; a coroutine awaiting one may run on another executor.
class client {
 public:
  client(boost::asio::any_io_executor ex, client_options opts);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Begins connecting (returns at once); reconnects by itself after a loss, with backoff.
  /// Sentinel: asks the Sentinels for the primary first; cluster: loads the slot map.
  void start();
  /// Closes the connection(s); pending commands complete with errc::stopped. start() may
  /// follow.
  void stop();
  /// True once connected and past AUTH/SELECT (sentinel: and ROLE says primary), until the
  /// connection is lost or stopped. Cluster: a slot map is loaded and every primary in it
  /// is connected.
  bool connected() const noexcept;
  /// Completes with success once connected (at once if already), errc::timeout after
  /// `timeout`, errc::stopped on stop().
  boost::asio::awaitable<boost::system::error_code> async_wait_connected(
      std::chrono::milliseconds timeout);

  /// One command. A Redis error reply is a reply (kind error), not a failure; failures are
  /// transport ones (not_connected, timeout, connection_lost, stopped, overloaded) and
  /// bad_command for an empty or pub/sub / MONITOR command, or a key index past the last
  /// argument (on a cluster also MULTI, EXEC, DISCARD, WATCH, UNWATCH alone: send them in
  /// one pipeline). `args` must stay valid until the first suspension only (they are
  /// formatted at once). `key` routes the command on a cluster (command_args::key_at).
  boost::asio::awaitable<boost::system::result<reply>> async_exec(command_args args);
  boost::asio::awaitable<boost::system::result<reply>> async_exec(
      std::span<const std::string_view> args, key_index key = key_by_rule);
  /// Every command of the pipeline, replies in request order, one deadline per batch sent.
  /// Either every reply or an error (a batch is never partly answered). An empty pipeline
  /// completes at once with no replies. `p` is read before the first suspension only. On a
  /// cluster the commands are split by node (docs/REDIS.md "Routing").
  boost::asio::awaitable<boost::system::result<std::vector<reply>>> async_exec(const pipeline& p);

  /// Redirects, retries and failovers seen so far (all zero for a single server).
  client_stats stats() const noexcept;
  /// True for a cluster:// client: callers pick their slot-local key layout by it.
  bool is_cluster() const noexcept { return cluster_ != nullptr; }

  // Server-assisted invalidation for a local cache of what this client reads (Redis
  // "client-side caching", CLIENT TRACKING in redirect mode), on a cluster only: a second
  // connection per primary subscribes to __redis__:invalidate and every command connection
  // tracks the keys it reads, redirecting their invalidations there.
  //
  //   * on_keys: keys a write changed since this client last read them (inline, on the
  //     executor; it must not issue commands).
  //   * on_reset: everything cached may be stale (a tracking or command connection was lost
  //     or replaced, the slot map changed, a node was flushed); tracking_epoch() has grown.
  //
  // A cached value of a key in `slot` may be used for a request that began before
  // async_tracking_barrier({slot}) was called only when tracked(slot) held when the value was
  // read, tracking_epoch() is the same before and after, and the barrier answered 1 for
  // the slot: then every write the node applied before the barrier has had its invalidation
  // delivered, and the node is still a primary. Whether it still owns the slot is the
  // caller's to know (keep a tracked key in the slot: it moves, and is invalidated, before
  // the slot can). No-op elsewhere.
  void enable_tracking(std::function<void(std::span<const std::string_view>)> on_keys,
                       std::function<void()> on_reset);
  std::uint64_t tracking_epoch() const noexcept;
  /// The primary of `slot` reads with tracking on now (false on a non-cluster client).
  bool tracked(int slot) const noexcept;
  /// Per slot of `slots` (in order): 1 when the barrier above holds for it, else 0.
  /// `slots` is read before the first suspension.
  boost::asio::awaitable<std::vector<std::uint8_t>> async_tracking_barrier(
      std::span<const std::uint16_t> slots);

 private:
  std::shared_ptr<detail::connection> conn_;          // single server and sentinel
  std::shared_ptr<detail::cluster> cluster_;          // cluster:// only
  std::shared_ptr<detail::sentinel_watch> sentinel_;  // sentinel:// only
};

}  // namespace stopgate::redis
