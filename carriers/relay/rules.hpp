// The relay's decisions after one attempt on a carrier, as pure functions over the attempt
// (docs/RELAY.md, "Retry and failover"). Thread-safe.
#pragma once

#include "carriers/relay/carrier_states.hpp"
#include "carriers/relay/relay.hpp"

#include <cstdint>

namespace stopgate::carriers::relay {

enum class next_step {
  done,       // accepted
  retry,      // the same carrier again, after a backoff
  fail_over,  // the next carrier of the route: this one provably did not take the message
  stop,       // give up now: opted out, refused for good, stopped, or the outcome is unknown
};

/// What follows attempt `a` (its try_number counts from 1) on a carrier with `retries`.
next_step after_attempt(const attempt& a, std::uint32_t retries) noexcept;

/// The request left and no answer came back (timeout after sending, connection dropped):
/// the carrier may have accepted the message.
bool outcome_unknown(const attempt& a) noexcept;

/// The attempt says the carrier is failing (not just refusing this message): it counts
/// toward the circuit breaker's threshold.
bool breaker_failure(const attempt& a) noexcept;

/// The counter an attempt that reached the carrier falls under.
call_result result_of(const attempt& a) noexcept;

}  // namespace stopgate::carriers::relay
