// RFC 3339 timestamps as the socket API reads and writes them.
#pragma once

#include "dnc/model/facts.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stopgate::gateway {

/// "2026-11-29T14:03:00Z", "2026-11-29T09:03:00.250-05:00" -> UTC instant (microseconds).
/// Requires a date, 'T' (or 't' / ' '), a time with seconds, optional fraction (up to 9
/// digits, truncated to microseconds) and 'Z' or a +hh:mm / -hh:mm offset.
std::optional<dnc::model::sys_time> parse_rfc3339(std::string_view text) noexcept;

/// "2026-11-29T14:03:00Z" (seconds) or with ".123456" when the instant has a fraction.
std::string format_rfc3339(dnc::model::sys_time t);

}  // namespace stopgate::gateway
