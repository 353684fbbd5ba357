#include "redis/routing.hpp"

#include "redis/resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>

namespace stopgate::redis {
namespace {

// How a command name routes. Names not in the table route by args[1].
enum class rule : std::uint8_t {
  none,           // no key
  eval,           // numkeys at args[2], first key at args[3]
  numkeys_1,      // numkeys at args[1], first key at args[2]
  numkeys_2,      // numkeys at args[2], first key at args[3]
  streams,        // the argument after STREAMS
  second,         // args[2]
  memory,         // MEMORY USAGE key: args[2]; other MEMORY subcommands: no key
  script,         // SCRIPT LOAD / FLUSH: every primary; other subcommands: no key
  all_primaries,  // FLUSHALL, FLUSHDB
  multi_begin,    // MULTI
  multi_end,      // EXEC, DISCARD
  watch,          // WATCH key (connection state)
  unwatch,        // UNWATCH (connection state)
};

struct entry {
  std::string_view name;  // upper case; the table is sorted by it
  rule how;
};

// One table, sorted, looked up by binary search: a cluster routes every command through it.
constexpr entry table[] = {
    {"ACL", rule::none},
    {"ASKING", rule::none},
    {"AUTH", rule::none},
    {"BGREWRITEAOF", rule::none},
    {"BGSAVE", rule::none},
    {"BITOP", rule::second},
    {"BLMPOP", rule::numkeys_2},
    {"BZMPOP", rule::numkeys_2},
    {"CLIENT", rule::none},
    {"CLUSTER", rule::none},
    {"COMMAND", rule::none},
    {"CONFIG", rule::none},
    {"DBSIZE", rule::none},
    {"DEBUG", rule::none},
    {"DISCARD", rule::multi_end},
    {"ECHO", rule::none},
    {"EVAL", rule::eval},
    {"EVALSHA", rule::eval},
    {"EVALSHA_RO", rule::eval},
    {"EVAL_RO", rule::eval},
    {"EXEC", rule::multi_end},
    {"FAILOVER", rule::none},
    {"FCALL", rule::eval},
    {"FCALL_RO", rule::eval},
    {"FLUSHALL", rule::all_primaries},
    {"FLUSHDB", rule::all_primaries},
    {"FUNCTION", rule::none},
    {"HELLO", rule::none},
    {"INFO", rule::none},
    {"KEYS", rule::none},
    {"LASTSAVE", rule::none},
    {"LATENCY", rule::none},
    {"LMPOP", rule::numkeys_1},
    {"LOLWUT", rule::none},
    {"MEMORY", rule::memory},
    {"MODULE", rule::none},
    {"MONITOR", rule::none},
    {"MULTI", rule::multi_begin},
    {"OBJECT", rule::second},
    {"PING", rule::none},
    {"PUBLISH", rule::none},
    {"PUBSUB", rule::none},
    {"QUIT", rule::none},
    {"RANDOMKEY", rule::none},
    {"READONLY", rule::none},
    {"READWRITE", rule::none},
    {"REPLICAOF", rule::none},
    {"RESET", rule::none},
    {"ROLE", rule::none},
    {"SAVE", rule::none},
    {"SCAN", rule::none},
    {"SCRIPT", rule::script},
    {"SELECT", rule::none},
    {"SENTINEL", rule::none},
    {"SHUTDOWN", rule::none},
    {"SINTERCARD", rule::numkeys_1},
    {"SLAVEOF", rule::none},
    {"SLOWLOG", rule::none},
    {"SWAPDB", rule::none},
    {"TIME", rule::none},
    {"UNWATCH", rule::unwatch},
    {"WAIT", rule::none},
    {"WAITAOF", rule::none},
    {"WATCH", rule::watch},
    {"XGROUP", rule::second},
    {"XINFO", rule::second},
    {"XREAD", rule::streams},
    {"XREADGROUP", rule::streams},
    {"ZDIFF", rule::numkeys_1},
    {"ZINTER", rule::numkeys_1},
    {"ZINTERCARD", rule::numkeys_1},
    {"ZMPOP", rule::numkeys_1},
    {"ZUNION", rule::numkeys_1},
};

constexpr bool sorted() {
  for (std::size_t i = 1; i < std::size(table); ++i)
    if (!(table[i - 1].name < table[i].name)) return false;
  return true;
}
static_assert(sorted(), "the routing table must stay sorted for the binary search");

// The rule of `name` (any case); nullptr for a command routed by args[1].
const entry* find_rule(std::string_view name) noexcept {
  constexpr std::size_t longest = 16;
  if (name.empty() || name.size() > longest) return nullptr;
  char buf[longest];
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    buf[i] = c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
  }
  const std::string_view upper(buf, name.size());
  const entry* it = std::lower_bound(std::begin(table), std::end(table), upper,
                                     [](const entry& e, std::string_view n) { return e.name < n; });
  return it != std::end(table) && it->name == upper ? it : nullptr;
}

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

route keyed_after_count(std::span<const std::string_view> args, std::size_t count_at) noexcept {
  if (args.size() > count_at + 1 && positive_count(args[count_at]))
    return {route::kind::keyed, count_at + 1, false};
  return {route::kind::any_node, 0, false};
}

}  // namespace

route route_of(std::span<const std::string_view> args, key_index key) noexcept {
  if (args.empty()) return {route::kind::invalid, 0, false};
  const entry* e = find_rule(args[0]);
  route r{route::kind::any_node, 0, false};
  if (e == nullptr) {
    r = keyed_or_any(args, 1);
  } else {
    switch (e->how) {
      case rule::none:
        break;
      case rule::eval:
        r = keyed_after_count(args, 2);
        break;
      case rule::numkeys_1:
        r = keyed_after_count(args, 1);
        break;
      case rule::numkeys_2:
        r = keyed_after_count(args, 2);
        break;
      case rule::streams:
        for (std::size_t i = 1; i + 1 < args.size(); ++i) {
          if (ascii_iequals(args[i], "STREAMS")) {
            r = {route::kind::keyed, i + 1, false};
            break;
          }
        }
        break;
      case rule::second:
        r = keyed_or_any(args, 2);
        break;
      case rule::memory:
        if (args.size() > 2 && ascii_iequals(args[1], "USAGE")) r = {route::kind::keyed, 2, false};
        break;
      case rule::script:
        if (args.size() > 1 && (ascii_iequals(args[1], "LOAD") || ascii_iequals(args[1], "FLUSH")))
          return {route::kind::all_primaries, 0, false};
        break;
      case rule::all_primaries:
        return {route::kind::all_primaries, 0, false};
      case rule::multi_begin:
        return {route::kind::multi_begin, 0, true};
      case rule::multi_end:
        return {route::kind::multi_end, 0, true};
      case rule::watch:
        r = keyed_or_any(args, 1);
        r.connection_state = true;
        break;
      case rule::unwatch:
        r.connection_state = true;
        break;
    }
  }
  // A key the caller names replaces the rule's (the name still decides the kinds above).
  if (key == key_by_rule) return r;
  if (key != no_key && key >= args.size()) return {route::kind::invalid, 0, false};
  const bool state = r.connection_state;
  r = key == no_key ? route{route::kind::any_node, 0, false}
                    : route{route::kind::keyed, key, false};
  r.connection_state = state;
  return r;
}

std::vector<command_unit> plan_units(std::span<const route> routes, std::span<const int> slots) {
  const std::size_t n = routes.size();
  std::vector<command_unit> units;
  std::size_t lead = n;  // first keyless command waiting for a unit to join
  for (std::size_t i = 0; i < n;) {
    const route::kind k = routes[i].type;
    if (k == route::kind::any_node || k == route::kind::multi_end) {
      if (lead == n && !units.empty() && units.back().slot != every_node)
        ++units.back().count;
      else if (lead == n)
        lead = i;
      ++i;
      continue;
    }
    command_unit u;
    u.first = i;
    if (k == route::kind::all_primaries) {
      u.count = 1;
      u.slot = every_node;
      units.push_back(u);
      ++i;
      continue;
    }
    if (k == route::kind::multi_begin) {
      std::size_t j = i + 1;
      while (j < n && routes[j].type != route::kind::multi_end) ++j;
      const std::size_t end = std::min(j + 1, n);
      for (std::size_t m = i + 1; m < end; ++m) {
        if (routes[m].type == route::kind::keyed) {
          u.slot = slots[m];
          break;
        }
      }
      u.count = end - i;
    } else {
      u.count = 1;
      u.slot = slots[i];
    }
    if (lead != n) {
      u.count += u.first - lead;
      u.first = lead;
      lead = n;
    }
    units.push_back(u);
    i = u.first + u.count;
  }
  if (lead != n) units.push_back({lead, n - lead, any_slot});
  return units;
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
