#include "gateway/contact_secret.hpp"

#include <openssl/rand.h>

namespace stopgate::gateway {

namespace asio = boost::asio;

boost::system::result<std::string> fetch_contact_secret(const redis::client_options& opts,
                                                        std::chrono::milliseconds timeout,
                                                        std::string_view offer, bool* created) {
  std::string fresh(offer);
  if (fresh.empty()) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
      return boost::system::error_code(EIO, boost::system::generic_category());
    fresh.assign(reinterpret_cast<const char*>(raw), sizeof raw);
  }
  return ask_redis<std::string>(
      opts, timeout,
      [&](redis::client& client) -> asio::awaitable<boost::system::result<std::string>> {
        using out_t = boost::system::result<std::string>;
        // SET NX: the first gateway's secret wins; everyone reads the same one back.
        // (No co_await inside ?: — GCC 12 miscompiles that.)
        auto set = co_await client.async_exec({"SET", contact_secret_key, fresh, "NX"});
        if (set && created) *created = set->kind == redis::reply::type::status;  // OK, not nil
        boost::system::result<redis::reply> get = set;
        if (set) get = co_await client.async_exec({"GET", contact_secret_key});
        if (!get) co_return out_t(boost::system::in_place_error, get.error());
        if (get->kind != redis::reply::type::string || get->str.size() < 16)
          co_return out_t(boost::system::in_place_error, make_error_code(redis::errc::protocol));
        co_return get->str;
      });
}

boost::system::result<std::optional<std::string>> read_contact_secret(
    const redis::client_options& opts, std::chrono::milliseconds timeout) {
  using out_t = boost::system::result<std::optional<std::string>>;
  return ask_redis<std::optional<std::string>>(
      opts, timeout, [&](redis::client& client) -> asio::awaitable<out_t> {
        auto get = co_await client.async_exec({"GET", contact_secret_key});
        if (!get) co_return out_t(boost::system::in_place_error, get.error());
        if (get->is_nil()) co_return std::optional<std::string>();
        if (get->kind != redis::reply::type::string || get->str.size() < 16)
          co_return out_t(boost::system::in_place_error, make_error_code(redis::errc::protocol));
        co_return std::optional<std::string>(get->str);
      });
}

}  // namespace stopgate::gateway
