// Adaptive busy polling for a worker's event loop (internal to gateway/).
//
// An idle worker that blocks in epoll_wait pays a scheduler wake-up (tens of microseconds on
// a virtual machine) for every event: a check waits for the client's request and then for
// Redis's reply, two wake-ups where Redis's own PING has one. Polling the event loop for a
// short while before blocking keeps the thread on its CPU when the next event is that close.
//
// Spinning costs CPU, so the window adapts, like the Linux guest haltpoll governor: it grows
// when the worker blocked and was woken within the longest window (a longer spin would have
// caught the event), and shrinks when the wait was longer (spinning would have been waste).
// A worker whose waits are long (fsyncs, carriers, a busy Redis) soon stops spinning at all;
// one answering a steady trickle of short round trips keeps spinning. Each spin step yields
// the CPU, so a process runnable on the same core (Redis, a load generator) is not held off.
// A yield that gave the CPU away and still found no work after it hints that the machine has
// no idle core to spare, and halves the window (repeated, it stops spinning; short waits earn
// it back). Giving way to the very task that then sent the work (the client, Redis) is not
// counted: that is the hand-off spinning is for.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>

namespace stopgate::gateway::net {

class spin_window {
 public:
  using duration = std::chrono::nanoseconds;

  /// `longest` = 0 turns spinning off for good.
  explicit spin_window(std::chrono::microseconds longest) noexcept;

  /// How long to spin before blocking, now.
  duration current() const noexcept { return current_; }
  duration longest() const noexcept { return longest_; }
  /// The worker found nothing while spinning and blocked; `waited` is the time from the start
  /// of the spin until the event that woke it.
  void blocked_for(duration waited) noexcept;
  /// Something else wanted this CPU while the worker spun (a yield gave it away, and no work
  /// came of it): spinning takes CPU time from work that needs it, so the window halves (once
  /// in a while is a process woken next to an idle core; again and again stops spinning).
  void contended() noexcept { shrink(); }

 private:
  void shrink() noexcept;

  duration longest_;
  duration current_;
};

/// Runs `io` like io.run(), but polls for up to `window.current()` before each blocking wait
/// and adapts the window. Returns when `io` is stopped (or runs out of work); exceptions from
/// handlers propagate like io.run()'s (call again to go on).
void run_busy_polling(boost::asio::io_context& io, spin_window& window);

}  // namespace stopgate::gateway::net
