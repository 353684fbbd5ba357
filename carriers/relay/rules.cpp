#include "carriers/relay/rules.hpp"

namespace stopgate::carriers::relay {

namespace {

bool refused_account(const attempt& a) noexcept {
  // 401/403: the carrier refuses our credentials or account, not this message; another
  // carrier may well take it.
  return a.http_status == 401 || a.http_status == 403;
}

bool before_call(const attempt& a) noexcept {
  return a.error_code == "circuit_open" || a.error_code == "rate_limited" ||
         a.error_code == "busy" || a.error_code == "unknown_carrier";
}

}  // namespace

bool outcome_unknown(const attempt& a) noexcept {
  return !a.accepted && a.request_sent && a.http_status == 0;
}

next_step after_attempt(const attempt& a, std::uint32_t retries) noexcept {
  if (a.accepted) return next_step::done;
  const bool retry_left = a.try_number <= retries;
  if (a.http_status == 0) {
    // No answer from the carrier: one of our own codes. (A carrier's error code may spell
    // the same words, hence the status check first.)
    if (a.error_code == "stopped") return next_step::stop;
    if (before_call(a)) return next_step::fail_over;
    // Neither a retry nor another carrier: the first one may have the message already.
    if (outcome_unknown(a)) return next_step::stop;
    if (a.error_code == "invalid_request") return next_step::fail_over;
    return retry_left ? next_step::retry : next_step::fail_over;
  }
  if (a.failure == failure_class::recipient_opted_out) return next_step::stop;
  if (a.failure == failure_class::permanent)
    return refused_account(a) ? next_step::fail_over : next_step::stop;
  return retry_left ? next_step::retry : next_step::fail_over;
}

bool breaker_failure(const attempt& a) noexcept {
  if (a.accepted) return false;
  if (refused_account(a)) return true;
  if (a.http_status == 0 && a.error_code == "invalid_request") return true;
  return a.failure == failure_class::retryable;
}

call_result result_of(const attempt& a) noexcept {
  if (a.accepted) return call_result::accepted;
  if (!a.failure) return call_result::retryable;
  switch (*a.failure) {
    case failure_class::recipient_opted_out: return call_result::opted_out;
    case failure_class::permanent: return call_result::permanent;
    case failure_class::retryable: return call_result::retryable;
  }
  return call_result::retryable;
}

}  // namespace stopgate::carriers::relay
