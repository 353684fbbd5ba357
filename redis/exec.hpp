// Internal: sending formatted commands on one connection and awaiting their replies with a
// deadline. Shared by the single-node client and the cluster router; not a public API.
#pragma once

#include "redis/connection.hpp"
#include "redis/error.hpp"
#include "redis/reply.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

namespace stopgate::redis::detail {

// The state one awaiting call shares with hiredis. hiredis holds it (through `hold`) until
// it has called back once per queued command, so a reply arriving after its waiter timed
// out lands here safely and is dropped.
struct pending_op {
  explicit pending_op(const boost::asio::any_io_executor& ex) : timer(ex) {}
  boost::asio::steady_timer timer;  // the deadline; cancelled to wake the waiter when done
  reply single;
  std::vector<reply> many;
  bool batch = false;
  std::size_t remaining = 0;  // reply callbacks hiredis still owes
  boost::system::error_code ec;
  bool done = false;
  bool abandoned = false;  // the waiter gave up: convert nothing more
  std::shared_ptr<pending_op> hold;
};

/// The hiredis reply callback of every pending_op.
void on_op_reply(redisAsyncContext* ac, void* r, void* priv);

/// Queues `n` commands (command_at(i) gives each RESP text, NUL-terminated in memory after
/// it) under one pending_op. Never suspends; the texts are copied into hiredis' buffer.
template <class CommandAt>
boost::system::result<std::shared_ptr<pending_op>> submit(connection& c, std::size_t n,
                                                          std::size_t bytes, CommandAt command_at,
                                                          bool batch) {
  if (!c.ready())
    return make_error_code(c.current() == connection::state::stopped ? errc::stopped
                                                                     : errc::not_connected);
  redisAsyncContext* ac = c.context();
  if (c.in_flight + n > c.options().max_pending ||
      sdslen(ac->c.obuf) + bytes > c.options().max_unsent_bytes)
    return make_error_code(errc::overloaded);
  auto op = std::make_shared<pending_op>(c.executor());
  op->batch = batch;
  if (batch) op->many.reserve(n);
  std::size_t queued = 0;
  for (; queued < n; ++queued) {
    const std::string_view cmd = command_at(queued);
    if (redisAsyncFormattedCommand(ac, &on_op_reply, op.get(), cmd.data(), cmd.size()) != REDIS_OK)
      break;
  }
  c.in_flight += queued;
  if (queued == 0) return make_error_code(errc::connection_lost);
  if (queued < n) op->ec = errc::connection_lost;
  op->remaining = queued;
  op->hold = op;
  return op;
}

/// Waits for every reply of `op` or `timeout` (errc::timeout; the late replies are dropped).
boost::asio::awaitable<boost::system::error_code> await_op(std::shared_ptr<pending_op> op,
                                                           std::chrono::milliseconds timeout);

}  // namespace stopgate::redis::detail
