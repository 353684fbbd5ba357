// Which Redis Cluster node a command goes to: the key argument of each command by a fixed
// rule (or as the caller names it), and the commands that have no key, go everywhere, or
// bracket a transaction. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace stopgate::redis {

/// Position of a command's routing key among its arguments (0 is the command name).
using key_index = std::uint32_t;
/// Route by the rule of route_of() (the default everywhere).
inline constexpr key_index key_by_rule = ~key_index{0};
/// The command has no key: any node answers it.
inline constexpr key_index no_key = 0;

/// Where one command goes on a cluster.
struct route {
  enum class kind {
    keyed,          // the node serving the slot of args[key]
    any_node,       // no key (PING, INFO, PUBLISH, EVAL with 0 keys, ...)
    all_primaries,  // SCRIPT LOAD / SCRIPT FLUSH / FLUSHALL / FLUSHDB: every primary
    multi_begin,    // MULTI: with the first keyed command after it, up to EXEC / DISCARD
    multi_end,      // EXEC, DISCARD
    invalid,        // an explicit key index past the last argument
  };
  kind type = kind::any_node;
  std::size_t key = 0;  // argument position when keyed
  /// WATCH, UNWATCH, MULTI, EXEC, DISCARD: they depend on the connection's state, so on a
  /// cluster they are accepted inside one pipeline only, never as single commands.
  bool connection_state = false;
};

/// The route of `args` (args[0] is the command name, any case). With `key` other than
/// key_by_rule, args[key] is the key (no_key: none); the command name still decides
/// multi_begin / multi_end / all_primaries / connection_state. The rule: EVAL, EVALSHA,
/// EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO route by their first key (args[3] when numkeys >= 1,
/// no key otherwise); ZUNION, ZINTER, ZDIFF, ZINTERCARD, SINTERCARD, LMPOP, ZMPOP by args[2];
/// BLMPOP, BZMPOP by args[3]; XREAD, XREADGROUP by the argument after STREAMS; BITOP,
/// OBJECT, MEMORY USAGE, XINFO, XGROUP by args[2]; server and connection commands (PING,
/// INFO, CLUSTER, CONFIG, CLIENT, PUBLISH, WAIT, SCRIPT, SCAN, KEYS, ...) have no key;
/// every other command routes by args[1]. Thread-safe (pure).
route route_of(std::span<const std::string_view> args, key_index key = key_by_rule) noexcept;

/// Commands of a pipeline that go together to one node of a cluster: `count` commands from
/// `first`, to the node of `slot`, or to any node (any_slot), or to every node the pipeline
/// uses (every_node).
struct command_unit {
  std::size_t first = 0, count = 0;
  int slot = -1;
  friend bool operator==(const command_unit&, const command_unit&) = default;
};
inline constexpr int any_slot = -1;
inline constexpr int every_node = -2;

/// Cuts a pipeline into units, given each command's route and (for keyed ones) its slot. A
/// keyed command is a unit; a keyless one rides with the unit before it (WAIT after the
/// write it waits for) or, before any, with the first unit after it; MULTI ... EXEC/DISCARD
/// is one unit routed by its first keyed command; all_primaries commands are units of their
/// own sent to every node. No route may be invalid. Thread-safe (pure).
std::vector<command_unit> plan_units(std::span<const route> routes, std::span<const int> slots);

/// Splits a command this library formatted (RESP array of bulk strings) back into its
/// arguments (views into `cmd`). False when `cmd` is not such an array. Thread-safe (pure).
bool split_command(std::string_view cmd, std::vector<std::string_view>& args);

}  // namespace stopgate::redis
