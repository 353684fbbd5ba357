// Fault injection through stopgate's adapters: each fault the fake injects reaches the relay
// as the failure class SPEC section 9 asks for, with Retry-After where the carrier gives it.
#include "tests/tools/fake_carrier_fixture.hpp"

#include "carriers/http/error.hpp"

namespace stopgate::fake_carrier::test {
namespace {

using carriers::failure_class;

fault make_fault(fault_kind k, std::optional<carrier_type> c, std::uint64_t count = 1) {
  fault f;
  f.kind = k;
  f.carrier = c;
  f.count = count;
  return f;
}

using FakeCarrierFaults = fake_carrier_test;

TEST_F(FakeCarrierFaults, RateLimitIsRetryableWithRetryAfter) {
  for (auto t : spoken_carriers) {
    SCOPED_TRACE(config::to_string(t));
    fault f = make_fault(fault_kind::rate_limit, t);
    f.retry_after = "3";
    fake_->add_fault(f);
    exchange ex = send(settings(t));
    ASSERT_TRUE(ex.raw);
    // Vonage says "throttled" with status 1 inside a 200; the others with HTTP 429.
    EXPECT_EQ(ex.raw->status, t == carrier_type::vonage ? 200 : 429);
    EXPECT_EQ(failure_of(ex), failure_class::retryable) << ex.raw->body;
    EXPECT_EQ(ex.parsed->retry_after, std::chrono::milliseconds(3000));
    if (t == carrier_type::telnyx) {
      // Telnyx: x-ratelimit-* headers rather than Retry-After.
      EXPECT_EQ(ex.raw->header("x-ratelimit-reset"), "3");
      EXPECT_EQ(ex.raw->header("x-ratelimit-remaining"), "0");
      EXPECT_FALSE(ex.raw->header("Retry-After"));
      EXPECT_EQ(ex.parsed->error_code, "10011");
    }
    if (t == carrier_type::twilio) {
      EXPECT_EQ(ex.parsed->error_code, "20429");
    }
    // The fault was for one request only.
    exchange next = send(settings(t));
    ASSERT_TRUE(next.raw);
    EXPECT_TRUE(next.parsed->accepted);
    EXPECT_EQ(fake_->counters().of(t).faults[std::size_t(fault_kind::rate_limit)], 1u);
  }
}

TEST_F(FakeCarrierFaults, RateLimitWithoutRetryAfterLeavesBackoffToTheRelay) {
  fault f = make_fault(fault_kind::rate_limit, carrier_type::twilio);
  f.retry_after = "";
  fake_->add_fault(f);
  exchange ex = send(settings(carrier_type::twilio));
  ASSERT_TRUE(ex.raw);
  EXPECT_EQ(failure_of(ex), failure_class::retryable);
  EXPECT_FALSE(ex.parsed->retry_after);
}

TEST_F(FakeCarrierFaults, ServerErrorsAreRetryable) {
  for (int status : {500, 503}) {
    for (auto t : spoken_carriers) {
      SCOPED_TRACE(std::string(config::to_string(t)) + " " + std::to_string(status));
      fault f = make_fault(fault_kind::server_error, t);
      f.status = status;
      fake_->add_fault(f);
      exchange ex = send(settings(t));
      ASSERT_TRUE(ex.raw);
      EXPECT_EQ(ex.raw->status, status);
      EXPECT_EQ(failure_of(ex), failure_class::retryable) << ex.raw->body;
    }
  }
}

TEST_F(FakeCarrierFaults, DroppedConnectionsAreTransportFailures) {
  for (auto kind : {fault_kind::drop_before_body, fault_kind::drop_after_body}) {
    SCOPED_TRACE(to_string(kind));
    fake_->clear();
    // A fresh client: on a reused connection libcurl would retry (see the test below).
    client_.emplace(io_.get_executor(), http::client_options{});
    fake_->add_fault(make_fault(kind, carrier_type::telnyx));
    exchange ex = send(settings(carrier_type::telnyx));
    ASSERT_FALSE(ex.raw);
    const auto code = ex.raw.error().code;
    EXPECT_TRUE(code == http::client_errc::recv_failed || code == http::client_errc::send_failed)
        << code.message();
    EXPECT_TRUE(ex.raw.error().request_sent);  // may have been accepted: no failover
    EXPECT_EQ(failure_of(ex), failure_class::retryable);
    auto reqs = fake_->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].fault, kind);
    EXPECT_EQ(reqs[0].status, 0);
    // Only after the body was read does the record hold it.
    EXPECT_EQ(reqs[0].body.empty(), kind == fault_kind::drop_before_body);
    // The client recovers on a new connection.
    exchange next = send(settings(carrier_type::telnyx));
    ASSERT_TRUE(next.raw);
    EXPECT_TRUE(next.parsed->accepted);
  }
}

// libcurl resends a request whose reused keep-alive connection closes without a byte of
// answer, POST included: the carrier sees the message twice and stopgate sees one success.
// The fake makes that visible (two records, the first dropped after its body was read).
// libcurl resends a request on its own when a reused keep-alive connection closes without a
// byte of answer; after the carrier read the whole message that would send it twice. The
// client refuses curl's body rewind, so the send fails with request_sent (outcome unknown).
TEST_F(FakeCarrierFaults, DropAfterBodyOnAReusedConnectionIsNotResent) {
  ASSERT_TRUE(send(settings(carrier_type::twilio)).parsed->accepted);  // warm the connection
  fake_->clear();
  fake_->add_fault(make_fault(fault_kind::drop_after_body, carrier_type::twilio));
  exchange ex = send(settings(carrier_type::twilio));
  ASSERT_FALSE(ex.raw);
  EXPECT_TRUE(ex.raw.error().request_sent);
  EXPECT_EQ(ex.raw.error().code, http::client_errc::recv_failed);
  auto reqs = fake_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].fault, fault_kind::drop_after_body);
  // The next send works (on a fresh connection).
  fake_->clear_faults();
  EXPECT_TRUE(send(settings(carrier_type::twilio)).parsed->accepted);
}

TEST_F(FakeCarrierFaults, TimeoutNeverAnswers) {
  fake_->add_fault(make_fault(fault_kind::timeout, carrier_type::sinch));
  exchange ex = send(settings(carrier_type::sinch), test_message(), 300ms);
  ASSERT_FALSE(ex.raw);
  EXPECT_EQ(ex.raw.error().code, http::client_errc::timeout);
  EXPECT_EQ(failure_of(ex), failure_class::retryable);
  auto reqs = fake_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].fault, fault_kind::timeout);
  EXPECT_FALSE(reqs[0].body.empty());
}

TEST_F(FakeCarrierFaults, LatencyDelaysTheAnswer) {
  fault f = make_fault(fault_kind::latency, std::nullopt);
  f.delay = 200ms;
  fake_->add_fault(f);
  exchange ex = send(settings(carrier_type::plivo));
  ASSERT_TRUE(ex.raw);
  EXPECT_TRUE(ex.parsed->accepted);
  EXPECT_GE(ex.raw->elapsed, 200ms);
  auto reqs = fake_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].delay, 200ms);
  EXPECT_FALSE(reqs[0].fault);  // latency alone is not an action
}

TEST_F(FakeCarrierFaults, LatencyPastTheClientDeadlineIsATimeout) {
  fault f = make_fault(fault_kind::latency, carrier_type::twilio);
  f.delay = 5s;
  fake_->add_fault(f);
  exchange ex = send(settings(carrier_type::twilio), test_message(), 200ms);
  ASSERT_FALSE(ex.raw);
  EXPECT_EQ(ex.raw.error().code, http::client_errc::timeout);
}

TEST_F(FakeCarrierFaults, OptedOutIsTheCarriersOptOutSignal) {
  struct expectation {
    carrier_type type;
    std::string code;         // synchronous error code; "" = accepted now, reported later
    std::string async_error;  // what the later status callback carries
  };
  for (const auto& e : {expectation{carrier_type::twilio, "21610", ""},
                        expectation{carrier_type::telnyx, "40300", ""},
                        expectation{carrier_type::vonage, "7", ""},
                        expectation{carrier_type::http, "recipient_opted_out", ""},
                        expectation{carrier_type::bandwidth, "", "4775"},
                        expectation{carrier_type::plivo, "", "200"},
                        expectation{carrier_type::sinch, "", "Deleted"}}) {
    SCOPED_TRACE(config::to_string(e.type));
    fake_->add_fault(make_fault(fault_kind::opted_out, e.type));
    exchange ex = send(settings(e.type));
    ASSERT_TRUE(ex.raw);
    auto reqs = fake_->requests(e.type);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].fault, fault_kind::opted_out);
    EXPECT_EQ(reqs[0].async_error, e.async_error);
    if (e.code.empty()) {
      EXPECT_TRUE(ex.parsed->accepted);
      EXPECT_EQ(ex.parsed->carrier_message_id, reqs[0].message_id);
    } else {
      EXPECT_EQ(failure_of(ex), failure_class::recipient_opted_out) << ex.raw->body;
      EXPECT_EQ(ex.parsed->error_code, e.code);
    }
  }
}

TEST_F(FakeCarrierFaults, PermanentIsTheCarriersInvalidNumberError) {
  struct expectation {
    carrier_type type;
    std::string code;
  };
  for (const auto& e : {expectation{carrier_type::twilio, "21211"},
                        expectation{carrier_type::telnyx, "10016"},
                        expectation{carrier_type::bandwidth, "request-validation"},
                        expectation{carrier_type::vonage, "3"},
                        expectation{carrier_type::plivo, "http_400"},
                        expectation{carrier_type::sinch, "syntax_constraint_violation"},
                        expectation{carrier_type::http, "invalid_number"}}) {
    SCOPED_TRACE(config::to_string(e.type));
    fake_->add_fault(make_fault(fault_kind::permanent, e.type));
    exchange ex = send(settings(e.type));
    ASSERT_TRUE(ex.raw);
    EXPECT_EQ(failure_of(ex), failure_class::permanent) << ex.raw->body;
    EXPECT_EQ(ex.parsed->error_code, e.code);
  }
}

TEST_F(FakeCarrierFaults, FaultsAreScopedAndCounted) {
  // Twilio only, twice.
  fake_->add_fault(make_fault(fault_kind::server_error, carrier_type::twilio, 2));
  EXPECT_TRUE(send(settings(carrier_type::telnyx)).parsed->accepted);
  EXPECT_EQ(failure_of(send(settings(carrier_type::twilio))), failure_class::retryable);
  EXPECT_EQ(failure_of(send(settings(carrier_type::twilio))), failure_class::retryable);
  EXPECT_TRUE(send(settings(carrier_type::twilio)).parsed->accepted);
  EXPECT_TRUE(fake_->faults().empty());

  // Every carrier, until cleared.
  fake_->add_fault(make_fault(fault_kind::server_error, std::nullopt, 0));
  for (auto t : {carrier_type::sinch, carrier_type::vonage, carrier_type::sinch})
    EXPECT_EQ(failure_of(send(settings(t))), failure_class::retryable);
  ASSERT_EQ(fake_->faults().size(), 1u);
  fake_->clear_faults();
  EXPECT_TRUE(send(settings(carrier_type::sinch)).parsed->accepted);
}

TEST_F(FakeCarrierFaults, StopClosesHangingConnections) {
  fake_->add_fault(make_fault(fault_kind::timeout, std::nullopt, 0));
  auto call = carriers::build_send(settings(carrier_type::twilio), test_message());
  std::optional<http::outcome> out;
  run([&]() -> asio::awaitable<void> {
    asio::co_spawn(io_, client_->async_request(to_request(*call, 30s)),
                   [&](std::exception_ptr, http::outcome o) { out = std::move(o); });
    // Wait (on the executor, no sleeping thread) until the fake holds the request.
    asio::steady_timer t(io_);
    while (fake_->requests().empty()) {
      t.expires_after(2ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    fake_->stop();
    while (!out) {
      t.expires_after(2ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  });
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  // Closed by the fake's shutdown, not the client's 30 s deadline.
  EXPECT_EQ(out->error().code, http::client_errc::recv_failed);
}

TEST(FakeCarrierFaultTable, FractionIsSeededAndRoughlyHonoured) {
  auto hits = [](std::uint64_t seed) {
    fault_table table(seed);
    fault f;
    f.kind = fault_kind::server_error;
    f.fraction = 0.25;
    table.add(f);
    std::vector<bool> out;
    for (int i = 0; i < 4000; ++i) out.push_back(table.pick(carrier_type::twilio).action.has_value());
    return out;
  };
  auto a = hits(7), b = hits(7);
  EXPECT_EQ(a, b);
  const auto n = std::count(a.begin(), a.end(), true);
  EXPECT_GT(n, 850);
  EXPECT_LT(n, 1150);
}

TEST(FakeCarrierFaultTable, LatencyAndActionCombineAndDelaysAdd) {
  fault_table table(1);
  fault lat;
  lat.kind = fault_kind::latency;
  lat.delay = 50ms;
  fault err;
  err.kind = fault_kind::server_error;
  err.carrier = carrier_type::plivo;
  err.delay = 20ms;
  err.count = 1;
  table.add(lat);
  table.add(err);
  fault_plan p = table.pick(carrier_type::plivo);
  ASSERT_TRUE(p.action);
  EXPECT_EQ(p.action->kind, fault_kind::server_error);
  EXPECT_EQ(p.delay, 70ms);
  p = table.pick(carrier_type::plivo);
  EXPECT_FALSE(p.action);
  EXPECT_EQ(p.delay, 50ms);
  EXPECT_EQ(table.list().size(), 1u);
}

}  // namespace
}  // namespace stopgate::fake_carrier::test
