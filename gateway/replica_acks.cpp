#include "gateway/replica_acks.hpp"

#include "gateway/contact_secret.hpp"

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
  return ask_redis<unsigned>(
      opts, timeout, [](redis::client& client) -> asio::awaitable<boost::system::result<unsigned>> {
        using out_t = boost::system::result<unsigned>;
        auto info = co_await client.async_exec({"INFO", "replication"});
        if (!info) co_return out_t(boost::system::in_place_error, info.error());
        if (info->kind != redis::reply::type::string)
          co_return out_t(boost::system::in_place_error, make_error_code(redis::errc::protocol));
        co_return connected_replicas(info->str) > 0 ? 1u : 0u;
      });
}

}  // namespace stopgate::gateway
