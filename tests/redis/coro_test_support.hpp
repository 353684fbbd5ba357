// Running one test coroutine on an io_context, for the Redis client tests.
#pragma once

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator (aligned_new / sized delete) once
// a coroutine lambda is inlined: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// ASSERT_* returns, which a coroutine cannot: fail and co_return instead.
#define CO_ASSERT(cond)                          \
  if (!(cond)) {                                 \
    ADD_FAILURE() << "assertion failed: " #cond; \
    co_return;                                   \
  }

namespace stopgate::redis::test_support {

/// Runs one test coroutine on `io` until it finishes (bounded).
inline void run(boost::asio::io_context& io, std::function<boost::asio::awaitable<void>()> body,
                std::chrono::seconds limit = std::chrono::seconds(30)) {
  bool done = false;
  std::exception_ptr error;
  boost::asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(done) << "test coroutine did not finish";
  if (error) std::rethrow_exception(error);
}

/// Waits (running the event loop) until pred() holds or `limit` passes; returns pred().
inline boost::asio::awaitable<bool> eventually(std::function<bool()> pred,
                                               std::chrono::milliseconds limit) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(boost::asio::use_awaitable);
  }
  co_return pred();
}

/// Sleeps on the event loop.
inline boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

}  // namespace stopgate::redis::test_support
