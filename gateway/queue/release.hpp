// What to do with a queued message when it comes due (docs/QUEUE.md, "Release"): the check's
// decision at that instant, the message's own times. Pure: no I/O, no clock of its own.
#pragma once

#include "dnc/policy/engine.hpp"
#include "gateway/queue/payload.hpp"

#include <string>

namespace stopgate::gateway::queue {

enum class release_action {
  send,    // relay it now
  hold,    // back to the queue until `until` (the rules defer it, or send_at is ahead)
  cancel,  // the check denies it now: never sent
  expire,  // past expires_at, or the rules hold it past expires_at: never sent
};

struct release_step {
  release_action action = release_action::send;
  dnc::model::sys_time until{};  // hold: when it is due again
  std::string reason;            // hold: the first deferring reason (or "send_at"); cancel:
                                 // the first denying reason; expire: why
};

/// How long a message the rules defer with no date (the calendar never opens within the
/// engine's horizon) waits before it is checked again.
inline constexpr std::chrono::hours recheck_undated{24};

/// The step for message `p` at `now` given the check's decision `d` at `now`.
release_step plan_release(const queued_payload& p, const dnc::policy::policy_decision& d,
                          dnc::model::sys_time now);

}  // namespace stopgate::gateway::queue
