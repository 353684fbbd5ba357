#include "gateway/net/busy_poll.hpp"

#include <sched.h>

#include <algorithm>

namespace stopgate::gateway::net {

namespace {
// Below this the window is not worth its syscalls: it goes to zero.
constexpr int shrink_floor_divisor = 8;
// A yield that took longer than this ran another task.
constexpr std::chrono::microseconds yield_gave_way{20};
}  // namespace

spin_window::spin_window(std::chrono::microseconds longest) noexcept
    : longest_(std::max(std::chrono::microseconds(0), longest)), current_(longest_) {}

void spin_window::blocked_for(duration waited) noexcept {
  if (longest_.count() == 0) return;
  if (waited <= longest_) {
    const duration floor = longest_ / shrink_floor_divisor;
    // A longer spin would have caught it.
    current_ = current_ < floor ? floor : std::min(longest_, current_ * 2);
  } else {
    shrink();
  }
}

void spin_window::shrink() noexcept {
  current_ /= 2;
  if (current_ < longest_ / shrink_floor_divisor) current_ = duration(0);
}

void run_busy_polling(boost::asio::io_context& io, spin_window& window) {
  using clock = std::chrono::steady_clock;
  if (window.longest().count() == 0) {
    io.run();
    return;
  }
  while (!io.stopped()) {
    if (io.poll() > 0) continue;
    if (io.stopped()) return;
    // Nothing ready: poll for a while, giving way to anything runnable on this CPU.
    const auto start = clock::now();
    bool caught = false, gave_way = false;
    for (auto now = start; now - start < window.current();) {
      ::sched_yield();
      const auto after = clock::now();
      const bool yielded_to_other = after - now > yield_gave_way;
      now = after;
      if (io.poll() > 0) {
        caught = true;
        break;
      }
      if (io.stopped()) return;
      // Giving way to the task that then sent us work (a client, Redis) is the point of
      // spinning; giving way and still finding nothing is contention.
      if (yielded_to_other) {
        gave_way = true;
        window.contended();
      }
    }
    if (caught) continue;
    if (io.run_one() == 0) return;
    if (!gave_way) window.blocked_for(clock::now() - start);
  }
}

}  // namespace stopgate::gateway::net
