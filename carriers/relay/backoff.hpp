// The wait before a retry on the same carrier: exponential from backoff_initial_ms, capped at
// backoff_max_ms, with full jitter (uniform in [0, cap]), and never shorter than what the
// carrier asked for (Retry-After, a rate-limit reset). Pure: randomness is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace stopgate::carriers::relay {

struct backoff_policy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{10000};
};

/// The delay before retry number `retry` (1 = the first retry). `random` is any uniformly
/// distributed 64-bit value (the jitter). Thread-safe (pure).
std::chrono::milliseconds backoff_delay(const backoff_policy& p, std::uint32_t retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::uint64_t random) noexcept;

/// The cap of retry number `retry` before jitter: min(max, initial * 2^(retry-1)).
std::chrono::milliseconds backoff_cap(const backoff_policy& p, std::uint32_t retry) noexcept;

}  // namespace stopgate::carriers::relay
