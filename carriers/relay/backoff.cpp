#include "carriers/relay/backoff.hpp"

#include <algorithm>

namespace stopgate::carriers::relay {

std::chrono::milliseconds backoff_cap(const backoff_policy& p, std::uint32_t retry) noexcept {
  const std::int64_t initial = std::max<std::int64_t>(p.initial.count(), 0);
  const std::int64_t max = std::max<std::int64_t>(p.max.count(), 0);
  std::int64_t cap = initial;
  // Doubling stops at the cap, so the shift can never overflow.
  for (std::uint32_t i = 1; i < retry && cap < max; ++i) cap *= 2;
  return std::chrono::milliseconds(std::min(cap, max));
}

std::chrono::milliseconds backoff_delay(const backoff_policy& p, std::uint32_t retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::uint64_t random) noexcept {
  const auto cap = static_cast<std::uint64_t>(backoff_cap(p, retry).count());
  const std::chrono::milliseconds jittered(static_cast<std::int64_t>(random % (cap + 1)));
  if (retry_after && *retry_after > jittered) return *retry_after;
  return jittered;
}

}  // namespace stopgate::carriers::relay
