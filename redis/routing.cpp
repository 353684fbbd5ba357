#include "redis/routing.hpp"

#include "redis/resp.hpp"

#include <array>
#include <charconv>

namespace stopgate::redis {
namespace {

bool is_one_of(std::string_view name, std::span<const std::string_view> names) noexcept {
  for (std::string_view n : names)
    if (ascii_iequals(name, n)) return true;
  return false;
}

// Commands without a key argument (server, connection, pub/sub and scripting admin).
constexpr std::string_view keyless[] = {
    "PING",     "ECHO",         "INFO",      "TIME",    "DBSIZE",   "CLUSTER", "SCRIPT",   "CONFIG",
    "CLIENT",   "COMMAND",      "PUBLISH",   "WAIT",    "WAITAOF",  "ROLE",    "LASTSAVE", "SAVE",
    "BGSAVE",   "BGREWRITEAOF", "RANDOMKEY", "SCAN",    "KEYS",     "SLOWLOG", "LATENCY",  "DEBUG",
    "FUNCTION", "READONLY",     "READWRITE", "SELECT",  "AUTH",     "HELLO",   "QUIT",     "RESET",
    "SWAPDB",   "FAILOVER",     "REPLICAOF", "SLAVEOF", "SHUTDOWN", "LOLWUT",  "ACL",      "MODULE",
    "SENTINEL", "ASKING",       "UNWATCH",   "PUBSUB",  "MONITOR"};

constexpr std::string_view eval_like[] = {"EVAL",       "EVALSHA", "EVAL_RO",
                                          "EVALSHA_RO", "FCALL",   "FCALL_RO"};
constexpr std::string_view numkeys_first[] = {"ZUNION",     "ZINTER", "ZDIFF", "ZINTERCARD",
                                              "SINTERCARD", "LMPOP",  "ZMPOP"};
constexpr std::string_view numkeys_second[] = {"BLMPOP", "BZMPOP"};
constexpr std::string_view key_after_subcommand[] = {"BITOP", "OBJECT", "XINFO", "XGROUP"};

// numkeys as Redis reads it: a non-negative decimal; anything else routes nowhere in particular.
bool positive_count(std::string_view s) noexcept {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size() && v > 0;
}

route keyed_or_any(std::span<const std::string_view> args, std::size_t pos) noexcept {
  if (pos < args.size()) return {route::kind::keyed, pos, false};
  return {route::kind::any_node, 0, false};
}

route by_rule(std::span<const std::string_view> args) noexcept {
  const std::string_view name = args[0];
  if (is_one_of(name, eval_like))
    return args.size() > 3 && positive_count(args[2]) ? route{route::kind::keyed, 3, false}
                                                      : route{route::kind::any_node, 0, false};
  if (is_one_of(name, numkeys_first))
    return args.size() > 2 && positive_count(args[1]) ? route{route::kind::keyed, 2, false}
                                                      : route{route::kind::any_node, 0, false};
  if (is_one_of(name, numkeys_second))
    return args.size() > 3 && positive_count(args[2]) ? route{route::kind::keyed, 3, false}
                                                      : route{route::kind::any_node, 0, false};
  if (ascii_iequals(name, "XREAD") || ascii_iequals(name, "XREADGROUP")) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i)
      if (ascii_iequals(args[i], "STREAMS")) return {route::kind::keyed, i + 1, false};
    return {route::kind::any_node, 0, false};
  }
  if (is_one_of(name, key_after_subcommand)) return keyed_or_any(args, 2);
  if (ascii_iequals(name, "MEMORY"))
    return args.size() > 2 && ascii_iequals(args[1], "USAGE")
               ? route{route::kind::keyed, 2, false}
               : route{route::kind::any_node, 0, false};
  if (is_one_of(name, keyless)) return {route::kind::any_node, 0, false};
  return keyed_or_any(args, 1);
}

}  // namespace

route route_of(std::span<const std::string_view> args, key_index key) noexcept {
  if (args.empty()) return {route::kind::invalid, 0, false};
  const std::string_view name = args[0];
  if (ascii_iequals(name, "MULTI")) return {route::kind::multi_begin, 0, true};
  if (ascii_iequals(name, "EXEC") || ascii_iequals(name, "DISCARD"))
    return {route::kind::multi_end, 0, true};
  if ((ascii_iequals(name, "SCRIPT") && args.size() > 1 &&
       (ascii_iequals(args[1], "LOAD") || ascii_iequals(args[1], "FLUSH"))) ||
      ascii_iequals(name, "FLUSHALL") || ascii_iequals(name, "FLUSHDB"))
    return {route::kind::all_primaries, 0, false};
  route r;
  if (key == key_by_rule) {
    r = by_rule(args);
  } else if (key == no_key) {
    r = {route::kind::any_node, 0, false};
  } else if (key >= args.size()) {
    return {route::kind::invalid, 0, false};
  } else {
    r = {route::kind::keyed, key, false};
  }
  r.connection_state = ascii_iequals(name, "WATCH") || ascii_iequals(name, "UNWATCH");
  return r;
}

bool split_command(std::string_view cmd, std::vector<std::string_view>& args) {
  args.clear();
  // "<kind><decimal>\r\n" at `pos`; advances pos past it.
  auto header = [&](char kind, std::size_t& pos, std::size_t& n) {
    if (pos >= cmd.size() || cmd[pos] != kind) return false;
    const char* b = cmd.data() + pos + 1;
    const char* e = cmd.data() + cmd.size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (ec != std::errc{} || p == b || e - p < 2 || p[0] != '\r' || p[1] != '\n') return false;
    pos = std::size_t(p - cmd.data()) + 2;
    return true;
  };
  std::size_t pos = 0, count = 0;
  if (!header('*', pos, count)) return false;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t len = 0;
    if (!header('$', pos, len) || cmd.size() - pos < len + 2) return false;
    args.push_back(cmd.substr(pos, len));
    pos += len + 2;
  }
  return pos == cmd.size();
}

}  // namespace stopgate::redis
