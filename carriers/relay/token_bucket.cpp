#include "carriers/relay/token_bucket.hpp"

#include <algorithm>

namespace stopgate::carriers::relay {

token_bucket::token_bucket(std::uint32_t rate_per_second, std::uint32_t burst,
                           clock::time_point now)
    : tat_(now) {
  set_rate(rate_per_second, burst);
}

void token_bucket::set_rate(std::uint32_t rate_per_second, std::uint32_t burst) {
  const std::uint32_t rate = std::max<std::uint32_t>(rate_per_second, 1);
  interval_ = std::chrono::duration_cast<clock::duration>(std::chrono::seconds(1)) / rate;
  tolerance_ = interval_ * (std::max<std::uint32_t>(burst, 1) - 1);
}

std::optional<token_bucket::clock::duration> token_bucket::reserve(clock::time_point now,
                                                                   clock::duration max_wait) {
  const clock::time_point tat = std::max(tat_, now);
  // The token is usable once the reservations ahead of it fit within the burst tolerance.
  const clock::duration wait = std::max(clock::duration::zero(), tat - tolerance_ - now);
  if (wait > max_wait) return std::nullopt;
  tat_ = tat + interval_;
  return wait;
}

std::uint32_t token_bucket::available(clock::time_point now) const {
  const clock::time_point tat = std::max(tat_, now);
  const clock::duration room = now + tolerance_ + interval_ - tat;
  if (room <= clock::duration::zero()) return 0;
  return static_cast<std::uint32_t>(room / interval_);
}

}  // namespace stopgate::carriers::relay
