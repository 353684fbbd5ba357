// Internal: one hiredis async connection bridged onto an Asio executor, with its connect /
// handshake / reconnect state machine. Shared by client and subscriber; not a public API.
//
// The bridge: hiredis asks for read/write interest through its ev hooks (addRead, delRead,
// addWrite, delWrite, cleanup). Each "add" arms one async_wait on a stream_descriptor that
// wraps hiredis' socket; when it fires we call redisAsyncHandleRead/Write, which may run reply
// callbacks and may free the context. The cleanup hook releases the descriptor (cancelling
// waits, leaving the fd for hiredis to close) and bumps a generation number so stale wait
// handlers recognise themselves and do nothing.
#pragma once

#include "redis/error.hpp"
#include "redis/options.hpp"

#include <hiredis/async.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::redis::detail {

class connection : public std::enable_shared_from_this<connection> {
 public:
  enum class state { idle, connecting, handshaking, ready, backing_off, stopped };

  connection(boost::asio::any_io_executor ex, client_options opts, std::string_view role);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start();
  void stop();
  state current() const noexcept { return state_; }
  bool ready() const noexcept { return state_ == state::ready; }
  /// Changes whenever a hiredis context is created or destroyed.
  std::uint64_t generation() const noexcept { return gen_; }
  const client_options& options() const noexcept { return opts_; }
  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
  /// The live context; only while ready().
  redisAsyncContext* context() const noexcept { return ac_; }

  /// Called (inside a hiredis callback) each time the connection becomes ready, after AUTH
  /// and SELECT. It may queue commands; it must not stop or destroy the connection.
  std::function<void()> on_ready;
  /// Called when a ready connection is lost (not on stop()). Same rules as on_ready.
  std::function<void()> on_down;
  /// Where to connect, asked before every attempt (sentinel: the current primary; a cluster
  /// subscriber: the next seed node). Empty: options().ep. nullopt: no address known yet;
  /// the attempt fails and is retried with backoff.
  std::function<std::optional<endpoint>()> resolve;
  /// Sends ROLE after AUTH/SELECT and drops the connection (calling on_replica, inside a
  /// hiredis callback) unless the node answers that it is a primary.
  bool require_primary = false;
  std::function<void()> on_replica;
  /// Called by the client (on the executor, not inside hiredis) when a command on this
  /// connection was answered -READONLY. Empty unless a Sentinel watch follows it.
  std::function<void()> on_readonly;

  /// Drops the current connection, if any, and connects again at once or after the shortest
  /// backoff: the address may have changed. No-op when idle or stopped.
  void reconnect(std::string_view why);
  /// The address of the current or last attempt.
  const endpoint& current_endpoint() const noexcept { return ep_; }

  /// The error pending commands get when the context goes away.
  boost::system::error_code closing_code() const noexcept;

  boost::asio::awaitable<boost::system::error_code> async_wait_connected(
      std::chrono::milliseconds timeout);
  /// Like async_wait_connected, but completes with errc::not_connected as soon as the current
  /// attempt fails, and at once while backing off or idle: for callers that try elsewhere.
  boost::asio::awaitable<boost::system::error_code> async_wait_attempt(
      std::chrono::milliseconds timeout);

  /// Accounting of commands that still owe a reply callback (client only).
  std::size_t in_flight = 0;
  /// Reused formatting buffer for one-off commands (executor-confined).
  std::string scratch;

 private:
  struct waiter;

  void connect();
  void attach(redisAsyncContext* ac);
  void on_connected();
  void become_ready();
  void on_cleanup();
  void close_context(std::string why);
  void schedule_reconnect();
  void notify_waiters(boost::system::error_code ec);
  void notify_attempt_failed();
  void fail_attempt(std::string_view what);
  void queue_handshake(std::span<const std::string_view> args, void* tag);
  boost::asio::awaitable<boost::system::error_code> wait(std::chrono::milliseconds timeout,
                                                         bool attempt_only);
  void log_failure(std::string_view what);
  void arm_read();
  void arm_write();
  void on_readable(boost::system::error_code ec, std::uint64_t gen);
  void on_writable(boost::system::error_code ec, std::uint64_t gen);

  static void hook_add_read(void* p);
  static void hook_del_read(void* p);
  static void hook_add_write(void* p);
  static void hook_del_write(void* p);
  static void hook_cleanup(void* p);
  static void on_connect_cb(const redisAsyncContext* ac, int status);
  static void on_handshake_reply(redisAsyncContext* ac, void* r, void* priv);

  boost::asio::any_io_executor ex_;
  client_options opts_;
  endpoint ep_;       // the address of the current attempt (opts_.ep unless resolved)
  std::string role_;  // "client" / "subscriber", for logs
  state state_ = state::idle;
  redisAsyncContext* ac_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> sd_;
  std::uint64_t gen_ = 0;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  int handshake_left_ = 0;
  unsigned attempt_ = 0;  // reconnect attempts since the last ready state
  bool ever_ready_ = false;
  std::string last_error_;  // hiredis errstr of the last failure (no secrets in it)
  errc closing_ = errc::connection_lost;
  boost::asio::steady_timer connect_timer_, reconnect_timer_;
  std::minstd_rand rng_;
  std::vector<std::shared_ptr<waiter>> waiters_;
};

}  // namespace stopgate::redis::detail
