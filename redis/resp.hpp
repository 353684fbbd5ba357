// RESP request encoding: a command as an array of bulk strings. Binary safe, no allocation
// beyond growing the caller's buffer.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace stopgate::redis {

/// Appends "*N\r\n$len\r\narg\r\n..." for `args` to `out`. Thread-safe (pure).
void append_command(std::string& out, std::span<const std::string_view> args);

/// True for commands that change a connection's mode (SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE,
/// PUNSUBSCRIBE, MONITOR): they are refused on a plain client, whose replies must stay one
/// per command.
bool is_mode_command(std::string_view name) noexcept;

/// True when `a` equals `upper` (an upper-case ASCII name) ignoring ASCII case: command
/// names are case-insensitive. Thread-safe (pure).
bool ascii_iequals(std::string_view a, std::string_view upper) noexcept;

}  // namespace stopgate::redis
