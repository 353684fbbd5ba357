// A circuit breaker for one carrier: `threshold` consecutive failures open it for `open_for`;
// then it is half-open and lets exactly one probe through, whose verdict closes it again or
// re-opens it for another `open_for`. Pure: time is a parameter. Not thread-safe
// (carrier_state guards it with its mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace stopgate::carriers::relay {

enum class circuit_state { closed, open, half_open };
std::string_view to_string(circuit_state s) noexcept;

class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;

  circuit_breaker(std::uint32_t threshold, std::chrono::milliseconds open_for);
  /// New limits (a reload); the current state and count stay.
  void configure(std::uint32_t threshold, std::chrono::milliseconds open_for);

  /// May a call start now? Closed: yes. Open: no, until open_for has passed; then the
  /// breaker is half-open and the first caller gets the probe (yes), everyone else no until
  /// the probe's verdict. Every yes must be followed by on_success, on_failure or on_abandon.
  bool try_acquire(clock::time_point now);
  /// The carrier answered (accepted, or refused this message): closes the breaker.
  void on_success();
  /// A retryable failure: counts toward the threshold; a failed probe re-opens at once.
  void on_failure(clock::time_point now);
  /// A permitted call ended without a verdict (stopped, or gave up waiting for a limit):
  /// frees the probe so another caller can take it.
  void on_abandon();

  circuit_state state(clock::time_point now) const;
  std::uint32_t consecutive_failures() const noexcept { return failures_; }

 private:
  std::uint32_t threshold_;
  clock::duration open_for_;
  std::uint32_t failures_ = 0;
  bool open_ = false;
  bool probe_out_ = false;
  clock::time_point open_until_{};
};

}  // namespace stopgate::carriers::relay
