// A token bucket as a generic cell rate algorithm: one "theoretical arrival time" instead of a
// fractional token count, so every answer is exact integer arithmetic on the clock. Pure:
// time is a parameter. Not thread-safe (carrier_state guards it with its mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace stopgate::carriers::relay {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// `rate_per_second` >= 1 tokens per second, at most `burst` >= 1 at once; starts full.
  token_bucket(std::uint32_t rate_per_second, std::uint32_t burst, clock::time_point now);

  /// Reserves one token. Returns how long the caller must wait before using it (zero when one
  /// is available now), or nullopt, reserving nothing, when that wait would exceed `max_wait`.
  /// A reservation is final: a caller that gives up while waiting wastes its token.
  std::optional<clock::duration> reserve(clock::time_point now, clock::duration max_wait);

  /// Changes rate and burst (a reload), keeping the reservations already made.
  void set_rate(std::uint32_t rate_per_second, std::uint32_t burst);

  /// Tokens that could be taken at `now` without waiting (for tests and metrics).
  std::uint32_t available(clock::time_point now) const;

 private:
  clock::duration interval_{};   // time per token: 1 s / rate
  clock::duration tolerance_{};  // interval * (burst - 1): how far ahead reservations may run
  clock::time_point tat_;        // when the bucket would be full again had no one waited
};

}  // namespace stopgate::carriers::relay
