// Reconnect delays: exponential backoff with jitter, as a pure function so tests pick the
// random draw.
#pragma once

#include <chrono>
#include <cstdint>

namespace stopgate::redis {

/// Delay before reconnect attempt `attempt` (0 = first retry): uniform (by `random`, any
/// 64-bit draw) in a window that doubles per attempt, [min, 2 min], [2 min, 4 min], ...,
/// capped at [max/2, max]; always within [min, max]. Thread-safe (pure).
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max,
                                        std::uint64_t random) noexcept;

}  // namespace stopgate::redis
