#include "gateway/replica_acks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <charconv>

namespace stopgate::gateway {

namespace asio = boost::asio;

unsigned connected_replicas(std::string_view info) {
  constexpr std::string_view field = "connected_slaves:";
  for (std::size_t at = 0; at < info.size();) {
    auto end = info.find('\n', at);
    if (end == std::string_view::npos) end = info.size();
    std::string_view line = info.substr(at, end - at);
    if (line.starts_with(field)) {
      unsigned n = 0;
      line.remove_prefix(field.size());
      std::from_chars(line.data(), line.data() + line.size(), n);
      return n;
    }
    at = end + 1;
  }
  return 0;
}

boost::system::result<unsigned> resolve_replica_acks(const config::redis_settings& s,
                                                     const redis::client_options& opts,
                                                     std::chrono::milliseconds timeout) {
  if (s.min_replica_acks) return *s.min_replica_acks;
  asio::io_context io;
  redis::client client(io.get_executor(), opts);
  client.start();
  auto job = [&]() -> asio::awaitable<boost::system::result<unsigned>> {
    boost::system::result<unsigned> out = boost::system::error_code(redis::errc::not_connected);
    if (auto ec = co_await client.async_wait_connected(timeout)) {
      out = boost::system::result<unsigned>(boost::system::in_place_error, ec);
    } else {
      auto info = co_await client.async_exec({"INFO", "replication"});
      if (!info)
        out = boost::system::result<unsigned>(boost::system::in_place_error, info.error());
      else if (info->kind != redis::reply::type::string)
        out = boost::system::result<unsigned>(boost::system::in_place_error,
                                              make_error_code(redis::errc::protocol));
      else
        out = connected_replicas(info->str) > 0 ? 1u : 0u;
    }
    client.stop();
    co_return out;
  };
  auto fut = asio::co_spawn(io, job(), asio::use_future);
  io.run();
  return fut.get();
}

}  // namespace stopgate::gateway
