// The relay's pure pieces at exact instants: token bucket, circuit breaker, backoff, and the
// retry/failover rules after an attempt.
#include "carriers/relay/backoff.hpp"
#include "carriers/relay/breaker.hpp"
#include "carriers/relay/rules.hpp"
#include "carriers/relay/token_bucket.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace stopgate::carriers::relay {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
const clock::time_point t0 = clock::time_point{} + 1000h;

TEST(RelayTokenBucket, BurstThenOnePerInterval) {
  token_bucket b(10, 10, t0);  // 10/s, burst 10: the 11th token is 100 ms away
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.reserve(t0, 0ms), clock::duration::zero()) << i;
  EXPECT_EQ(b.available(t0), 0u);
  EXPECT_EQ(b.reserve(t0, 99ms), std::nullopt);   // too far: nothing reserved
  EXPECT_EQ(b.reserve(t0, 100ms), clock::duration(100ms));
  EXPECT_EQ(b.reserve(t0, 1s), clock::duration(200ms));  // queued behind the previous one
  // 300 ms later the two reservations are used up and one more token has accrued.
  EXPECT_EQ(b.reserve(t0 + 300ms, 0ms), clock::duration::zero());
  EXPECT_EQ(b.reserve(t0 + 300ms, 0ms), std::nullopt);
}

TEST(RelayTokenBucket, RefillsUpToBurstOnly) {
  token_bucket b(5, 5, t0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.reserve(t0, 0ms));
  EXPECT_EQ(b.available(t0 + 200ms), 1u);
  EXPECT_EQ(b.available(t0 + 1h), 5u);  // an idle hour does not bank more than the burst
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.reserve(t0 + 1h, 0ms), clock::duration::zero());
  EXPECT_EQ(b.reserve(t0 + 1h, 0ms), std::nullopt);
}

TEST(RelayTokenBucket, SetRateKeepsReservations) {
  token_bucket b(1, 1, t0);
  ASSERT_EQ(b.reserve(t0, 0ms), clock::duration::zero());
  EXPECT_EQ(b.reserve(t0, 2s), clock::duration(1s));
  b.set_rate(100, 100);
  // The reservation up to t0 + 2 s stands; the new rate applies after it (its burst
  // tolerance of 990 ms brings the next token forward to t0 + 1010 ms).
  EXPECT_EQ(b.reserve(t0, 0ms), std::nullopt);
  EXPECT_EQ(b.reserve(t0, 2s), clock::duration(1010ms));
}

TEST(RelayBreaker, OpensAfterThresholdConsecutiveFailures) {
  circuit_breaker br(3, 30s);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(br.try_acquire(t0));
    br.on_failure(t0);
  }
  ASSERT_TRUE(br.try_acquire(t0));
  br.on_success();  // a success in between resets the count
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(br.state(t0), circuit_state::closed) << i;
    ASSERT_TRUE(br.try_acquire(t0));
    br.on_failure(t0);
  }
  EXPECT_EQ(br.state(t0), circuit_state::open);
  EXPECT_FALSE(br.try_acquire(t0));
  EXPECT_FALSE(br.try_acquire(t0 + 30s - 1ms));
}

TEST(RelayBreaker, HalfOpenLetsOneProbeThrough) {
  circuit_breaker br(1, 30s);
  ASSERT_TRUE(br.try_acquire(t0));
  br.on_failure(t0);
  EXPECT_EQ(br.state(t0 + 30s), circuit_state::half_open);
  EXPECT_TRUE(br.try_acquire(t0 + 30s));   // the probe
  EXPECT_FALSE(br.try_acquire(t0 + 30s));  // everyone else waits for its verdict
  br.on_failure(t0 + 31s);                 // the probe failed: open for another 30 s
  EXPECT_EQ(br.state(t0 + 60s), circuit_state::open);
  EXPECT_FALSE(br.try_acquire(t0 + 61s - 1ms));
  EXPECT_TRUE(br.try_acquire(t0 + 61s));
  br.on_success();
  EXPECT_EQ(br.state(t0 + 61s), circuit_state::closed);
  EXPECT_TRUE(br.try_acquire(t0 + 61s));
}

TEST(RelayBreaker, AbandonedProbeFreesTheSlot) {
  circuit_breaker br(1, 1s);
  ASSERT_TRUE(br.try_acquire(t0));
  br.on_failure(t0);
  ASSERT_TRUE(br.try_acquire(t0 + 1s));
  br.on_abandon();
  EXPECT_TRUE(br.try_acquire(t0 + 1s));
}

TEST(RelayBreaker, LateFailureWhileOpenDoesNotExtend) {
  circuit_breaker br(1, 10s);
  ASSERT_TRUE(br.try_acquire(t0));
  ASSERT_TRUE(br.try_acquire(t0));  // two calls in flight while closed
  br.on_failure(t0);
  br.on_failure(t0 + 5s);  // the second one's failure arrives late
  EXPECT_EQ(br.state(t0 + 10s), circuit_state::half_open);
}

TEST(RelayBackoff, ExponentialCappedWithFullJitter) {
  const backoff_policy p{200ms, 1000ms};
  EXPECT_EQ(backoff_cap(p, 1), 200ms);
  EXPECT_EQ(backoff_cap(p, 2), 400ms);
  EXPECT_EQ(backoff_cap(p, 3), 800ms);
  EXPECT_EQ(backoff_cap(p, 4), 1000ms);
  EXPECT_EQ(backoff_cap(p, 60), 1000ms);  // no overflow however many retries
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(backoff_delay(p, 1, std::nullopt, 0), 0ms);
  EXPECT_EQ(backoff_delay(p, 1, std::nullopt, 200), 200ms);
  EXPECT_EQ(backoff_delay(p, 1, std::nullopt, 201), 0ms);  // uniform in [0, cap]
  EXPECT_EQ(backoff_delay(p, 2, std::nullopt, 123), 123ms);
  EXPECT_LE(backoff_delay(p, 9, std::nullopt, top), 1000ms);
}

TEST(RelayBackoff, NeverShorterThanRetryAfter) {
  const backoff_policy p{200ms, 1000ms};
  EXPECT_EQ(backoff_delay(p, 1, 3000ms, 150), 3000ms);  // above the cap: the carrier wins
  EXPECT_EQ(backoff_delay(p, 3, 100ms, 700), 700ms);    // the jitter is already longer
}

attempt response(int status, std::optional<failure_class> f, std::uint32_t try_number = 1) {
  attempt a;
  a.carrier = "c";
  a.try_number = try_number;
  a.request_sent = true;
  a.http_status = status;
  a.failure = f;
  a.accepted = !f;
  a.error_code = f ? "http_" + std::to_string(status) : "";
  return a;
}

attempt transport(std::string code, bool sent, std::uint32_t try_number = 1) {
  attempt a;
  a.carrier = "c";
  a.try_number = try_number;
  a.request_sent = sent;
  a.error_code = std::move(code);
  a.failure = failure_class::retryable;
  return a;
}

TEST(RelayRules, RetryThenFailOverOnRetryableResponses) {
  EXPECT_EQ(after_attempt(response(200, std::nullopt), 3), next_step::done);
  EXPECT_EQ(after_attempt(response(503, failure_class::retryable, 1), 2), next_step::retry);
  EXPECT_EQ(after_attempt(response(429, failure_class::retryable, 2), 2), next_step::retry);
  EXPECT_EQ(after_attempt(response(503, failure_class::retryable, 3), 2), next_step::fail_over);
  EXPECT_EQ(after_attempt(response(503, failure_class::retryable, 1), 0), next_step::fail_over);
}

TEST(RelayRules, NotSentIsRetriedSentIsUnknown) {
  EXPECT_EQ(after_attempt(transport("connect", false), 1), next_step::retry);
  EXPECT_EQ(after_attempt(transport("connect", false, 2), 1), next_step::fail_over);
  const attempt timeout = transport("timeout", true);
  EXPECT_EQ(after_attempt(timeout, 3), next_step::stop);
  EXPECT_TRUE(outcome_unknown(timeout));
  EXPECT_FALSE(outcome_unknown(response(503, failure_class::retryable)));
  EXPECT_TRUE(breaker_failure(timeout));
}

TEST(RelayRules, PermanentStopsUnlessTheAccountIsRefused) {
  EXPECT_EQ(after_attempt(response(400, failure_class::permanent), 3), next_step::stop);
  EXPECT_EQ(after_attempt(response(401, failure_class::permanent), 3), next_step::fail_over);
  EXPECT_EQ(after_attempt(response(403, failure_class::permanent), 3), next_step::fail_over);
  EXPECT_EQ(after_attempt(response(400, failure_class::recipient_opted_out), 3), next_step::stop);
  EXPECT_FALSE(breaker_failure(response(400, failure_class::permanent)));
  EXPECT_TRUE(breaker_failure(response(401, failure_class::permanent)));
  EXPECT_FALSE(breaker_failure(response(400, failure_class::recipient_opted_out)));
  EXPECT_EQ(result_of(response(400, failure_class::recipient_opted_out)), call_result::opted_out);
}

TEST(RelayRules, SkippedCarriersFailOver) {
  for (const char* code : {"circuit_open", "rate_limited", "busy"})
    EXPECT_EQ(after_attempt(transport(code, false), 3), next_step::fail_over) << code;
  EXPECT_EQ(after_attempt(transport("stopped", false), 3), next_step::stop);
}

TEST(RelayRules, CarrierCodesNeverPassForOurOwn) {
  // A carrier answering 503 with error code "busy" or "stopped" is a carrier answer.
  attempt busy = response(503, failure_class::retryable);
  busy.error_code = "busy";
  EXPECT_EQ(after_attempt(busy, 1), next_step::retry);
  busy.error_code = "stopped";
  EXPECT_EQ(after_attempt(busy, 1), next_step::retry);
}

}  // namespace
}  // namespace stopgate::carriers::relay
