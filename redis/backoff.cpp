#include "redis/backoff.hpp"

#include <algorithm>

namespace stopgate::redis {

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max,
                                        std::uint64_t random) noexcept {
  const std::int64_t lo = std::max<std::int64_t>(min.count(), 1);
  const std::int64_t hi = std::max<std::int64_t>(max.count(), lo);
  // The window doubles per attempt: [min, 2 min], [2 min, 4 min], ... capped at [max/2, max].
  std::int64_t upper = lo * 2;
  for (unsigned i = 0; i < attempt && upper < hi; ++i) upper *= 2;
  upper = std::min(upper, hi);
  const std::int64_t lower = std::max(lo, upper / 2);
  // Jitter spreads the reconnects of many gateways after a Redis restart.
  return std::chrono::milliseconds(lower + std::int64_t(random % std::uint64_t(upper - lower + 1)));
}

}  // namespace stopgate::redis
