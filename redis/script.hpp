// Lua scripts run by their SHA-1: EVALSHA, and EVAL with the text when Redis forgot the
// script (a restart, SCRIPT FLUSH), which also caches it again.
#pragma once

#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace stopgate::redis {

/// A script's text and the SHA-1 hex EVALSHA names it by (computed here: build one once, e.g.
/// as a function-local static). The text must outlive it.
struct script {
  std::string_view text;
  std::string sha;
  explicit script(std::string_view t);
};

/// The reply to an EVALSHA naming a script this Redis does not have.
bool is_noscript(const reply& r) noexcept;

/// EVALSHA `s` with `keys` and `args`; when the reply is NOSCRIPT, the same call as EVAL with
/// the text. Error replies come back as replies (the caller names the failure). When given,
/// `*round_trips` grows by each command sent.
boost::asio::awaitable<boost::system::result<reply>> async_eval(
    client& c, const script& s, std::span<const std::string_view> keys,
    std::span<const std::string_view> args, std::uint64_t* round_trips = nullptr);

}  // namespace stopgate::redis
