#include "gateway/contact_secret.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <openssl/rand.h>

namespace stopgate::gateway {

namespace asio = boost::asio;

boost::system::result<std::string> fetch_contact_secret(const redis::client_options& opts,
                                                        std::chrono::milliseconds timeout) {
  asio::io_context io;
  redis::client client(io.get_executor(), opts);
  client.start();
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return boost::system::error_code(EIO, boost::system::generic_category());
  const std::string fresh(reinterpret_cast<const char*>(raw), sizeof raw);
  auto job = [&]() -> asio::awaitable<boost::system::result<std::string>> {
    boost::system::result<std::string> out = boost::system::error_code(redis::errc::not_connected);
    if (auto ec = co_await client.async_wait_connected(timeout)) {
      out = boost::system::result<std::string>(boost::system::in_place_error, ec);
    } else {
      // SET NX: the first gateway's secret wins; everyone reads the same one back.
      // (No co_await inside ?: — GCC 12 miscompiles that.)
      auto set = co_await client.async_exec({"SET", contact_secret_key, fresh, "NX"});
      boost::system::result<redis::reply> get = set;
      if (set) get = co_await client.async_exec({"GET", contact_secret_key});
      if (!get)
        out = boost::system::result<std::string>(boost::system::in_place_error, get.error());
      else if (get->kind != redis::reply::type::string || get->str.size() < 16)
        out = boost::system::result<std::string>(boost::system::in_place_error,
                                                 make_error_code(redis::errc::protocol));
      else
        out = get->str;
    }
    client.stop();
    co_return out;
  };
  auto fut = asio::co_spawn(io, job(), asio::use_future);
  io.run();
  return fut.get();
}

}  // namespace stopgate::gateway
