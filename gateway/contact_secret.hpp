// The key that pseudonymises contact-store key names (dnc/contact_keys.hpp). Every gateway
// sharing a Redis must use the same one, so it lives in that Redis: the first gateway creates
// 32 random bytes with SET NX, every other reads them. docs/dev/CONTACTS.md discusses what this
// protects against (a casual look at Redis keys) and what it does not (someone who can read
// the whole Redis, key included).
#pragma once

#include "redis/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace stopgate::gateway {

inline constexpr std::string_view contact_secret_key = "stopgate:contacts:pseudonym-key";

/// Runs `job(client)` (a coroutine returning result<T>) on a private connection with its own
/// io_context and returns its answer: for start-up questions asked before the workers run.
/// Fails with the connection's error when Redis does not answer within `timeout`. Blocking.
template <class T, class Job>
boost::system::result<T> ask_redis(const redis::client_options& opts,
                                   std::chrono::milliseconds timeout, Job job) {
  boost::asio::io_context io;
  redis::client client(io.get_executor(), opts);
  client.start();
  auto run = [&]() -> boost::asio::awaitable<boost::system::result<T>> {
    boost::system::result<T> out = boost::system::error_code(redis::errc::not_connected);
    if (auto ec = co_await client.async_wait_connected(timeout))
      out = boost::system::result<T>(boost::system::in_place_error, ec);
    else
      out = co_await job(client);
    client.stop();
    co_return out;
  };
  auto fut = boost::asio::co_spawn(io, run(), boost::asio::use_future);
  io.run();
  return fut.get();
}

/// Blocking: connects with its own io_context and returns the secret Redis holds; when it holds
/// none, first stores `offer` there (SET NX: the first writer wins, everyone reads the same one
/// back). An empty `offer` is 32 fresh random bytes; a gateway that saw Redis lose its data
/// offers the secret it holds, so that the pseudonyms of every running gateway stay valid.
/// `*created` (when given) tells whether this call stored it (Redis held none).
boost::system::result<std::string> fetch_contact_secret(const redis::client_options& opts,
                                                        std::chrono::milliseconds timeout,
                                                        std::string_view offer = {},
                                                        bool* created = nullptr);

/// Blocking: the secret Redis holds, or nullopt when it holds none (nothing is written).
boost::system::result<std::optional<std::string>> read_contact_secret(
    const redis::client_options& opts, std::chrono::milliseconds timeout);

}  // namespace stopgate::gateway
