#include "gateway/queue/release.hpp"

namespace stopgate::gateway::queue {

release_step plan_release(const queued_payload& p, const dnc::policy::policy_decision& d,
                          dnc::model::sys_time now) {
  using dnc::policy::decision;
  release_step s;
  if (p.expires_at && now >= *p.expires_at) {
    s.action = release_action::expire;
    s.reason = "expires_at";
    return s;
  }
  if (d.outcome == decision::deny) {
    s.action = release_action::cancel;
    s.reason = d.reasons.empty() ? "denied" : d.reasons.front();
    return s;
  }
  if (d.outcome == decision::defer) {
    s.action = release_action::hold;
    s.until = d.retry_at ? *d.retry_at : now + recheck_undated;
    s.reason = d.reasons.empty() ? "deferred" : d.reasons.front();
  } else if (p.send_at && *p.send_at > now) {
    s.action = release_action::hold;
    s.until = *p.send_at;
    s.reason = "send_at";
  } else {
    return s;  // send
  }
  // A hold that would outlast the message's life ends it now.
  if (p.expires_at && s.until >= *p.expires_at) {
    s.action = release_action::expire;
    s.reason = "held past expires_at (" + s.reason + ")";
  }
  return s;
}

}  // namespace stopgate::gateway::queue
