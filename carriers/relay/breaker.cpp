#include "carriers/relay/breaker.hpp"

#include <algorithm>

namespace stopgate::carriers::relay {

std::string_view to_string(circuit_state s) noexcept {
  switch (s) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "closed";
}

circuit_breaker::circuit_breaker(std::uint32_t threshold, std::chrono::milliseconds open_for) {
  configure(threshold, open_for);
}

void circuit_breaker::configure(std::uint32_t threshold, std::chrono::milliseconds open_for) {
  threshold_ = std::max<std::uint32_t>(threshold, 1);
  open_for_ = open_for;
}

bool circuit_breaker::try_acquire(clock::time_point now) {
  if (!open_) return true;
  if (now < open_until_ || probe_out_) return false;
  probe_out_ = true;
  return true;
}

void circuit_breaker::on_success() {
  failures_ = 0;
  open_ = false;
  probe_out_ = false;
}

void circuit_breaker::on_failure(clock::time_point now) {
  if (open_) {
    // A late failure of a call started before the breaker opened says nothing new; only
    // the probe's failure re-opens it.
    if (!probe_out_) return;
    probe_out_ = false;
    open_until_ = now + open_for_;
    return;
  }
  if (++failures_ >= threshold_) {
    open_ = true;
    open_until_ = now + open_for_;
  }
}

void circuit_breaker::on_abandon() { probe_out_ = false; }

circuit_state circuit_breaker::state(clock::time_point now) const {
  if (!open_) return circuit_state::closed;
  return now < open_until_ ? circuit_state::open : circuit_state::half_open;
}

}  // namespace stopgate::carriers::relay
