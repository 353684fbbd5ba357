#include "redis/script.hpp"

#include <openssl/sha.h>

#include <charconv>
#include <vector>

namespace stopgate::redis {

script::script(std::string_view t) : text(t) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(t.data()), t.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  sha.reserve(2 * sizeof d);
  for (unsigned char b : d) {
    sha += hex[b >> 4];
    sha += hex[b & 15];
  }
}

bool is_noscript(const reply& r) noexcept {
  return r.is_error() && r.str.starts_with("NOSCRIPT");
}

boost::asio::awaitable<boost::system::result<reply>> async_eval(
    client& c, const script& s, std::span<const std::string_view> keys,
    std::span<const std::string_view> args, std::uint64_t* round_trips) {
  char nkeys[24];
  const char* nkeys_end = std::to_chars(nkeys, nkeys + sizeof nkeys, keys.size()).ptr;
  std::vector<std::string_view> cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.push_back("EVALSHA");
  cmd.push_back(s.sha);
  cmd.push_back(std::string_view(nkeys, std::size_t(nkeys_end - nkeys)));
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  if (round_trips) ++*round_trips;
  auto r = co_await c.async_exec(std::span<const std::string_view>(cmd));
  if (r && is_noscript(*r)) {
    cmd[0] = "EVAL";
    cmd[1] = s.text;
    if (round_trips) ++*round_trips;
    r = co_await c.async_exec(std::span<const std::string_view>(cmd));
  }
  co_return r;
}

}  // namespace stopgate::redis
