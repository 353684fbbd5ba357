// relay::async_send against scripted carriers on loopback (tests/carriers/relay_test_server.hpp)
// using the generic `http` carrier type, and the sandbox's outbox. Backoff waits go through
// the relay's delay hook, which records the requested delay and waits for none of it.
#include "tests/carriers/relay_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::carriers::relay {
namespace {

using namespace std::chrono_literals;
using test::scripted_reply;
using test::scripted_server;

using RelaySend = relay_test::relay_fixture;
using relay_test::closed_url;
using relay_test::http_carrier;
using relay_test::message;
using relay_test::ok;

TEST_F(RelaySend, AcceptedByTheFirstCarrier) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  set_carriers({http_carrier("c1", c1.url())});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1"});
  EXPECT_EQ(res.status, relay_status::sent);
  EXPECT_EQ(res.carrier, "c1");
  EXPECT_EQ(res.carrier_message_id, "m-1");
  EXPECT_EQ(res.carrier_status, "queued");
  EXPECT_FALSE(res.failure);
  ASSERT_EQ(res.attempts.size(), 1u);
  EXPECT_TRUE(res.attempts[0].accepted);
  EXPECT_EQ(res.attempts[0].http_status, 200);
  ASSERT_EQ(c1.requests(), 1u);
  EXPECT_NE(c1.bodies()[0].find("+14155552671"), std::string::npos);
  EXPECT_NE(c1.bodies()[0].find("msg-1"), std::string::npos);
  EXPECT_EQ(counters_of("c1").accepted, 1u);
  EXPECT_EQ(counters_of("c1").latency_count, 1u);
  EXPECT_EQ(counters_of("c1").in_flight, 0u);
}

TEST_F(RelaySend, RetriesTheSameCarrierHonouringRetryAfter) {
  scripted_server c1(io_.get_executor(), [](std::size_t n, const std::string&) {
    if (n == 0) return scripted_reply{503, {{"Retry-After", "3"}}, R"({"error":{"code":"busy"}})"};
    return ok();
  });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  set_carriers({http_carrier("c1", c1.url()), http_carrier("c2", c2.url())});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1", "c2"});
  EXPECT_EQ(res.status, relay_status::sent);
  EXPECT_EQ(res.carrier, "c1");
  ASSERT_EQ(res.attempts.size(), 2u);
  EXPECT_EQ(res.attempts[0].http_status, 503);
  EXPECT_EQ(res.attempts[0].failure, failure_class::retryable);
  EXPECT_EQ(res.attempts[1].try_number, 2u);
  EXPECT_EQ(res.attempts[1].backoff, 3000ms);  // Retry-After, longer than the 200 ms cap
  ASSERT_EQ(delays_.size(), 1u);
  EXPECT_EQ(delays_[0], std::make_pair(std::string("c1"), std::chrono::milliseconds(3000)));
  EXPECT_EQ(c2.requests(), 0u);
}

TEST_F(RelaySend, TelnyxRateLimitResetSetsTheBackoff) {
  scripted_server tx(io_.get_executor(), [](std::size_t n, const std::string&) {
    if (n == 0)
      return scripted_reply{429, {{"x-ratelimit-reset", "7"}},
                            R"({"errors":[{"code":"10011","title":"Too many requests"}]})"};
    return scripted_reply{200, {}, R"({"data":{"id":"40317f5c-1","to":[{"status":"queued"}]}})"};
  });
  config::carrier_settings t;
  t.name = "telnyx";
  t.type = config::carrier_type::telnyx;
  t.base_url = tx.url("");
  config::telnyx_credentials creds;
  creds.api_key = config::secret::from_inline("KEY123");
  t.credentials = creds;
  set_carriers({t});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"telnyx"});
  EXPECT_EQ(res.status, relay_status::sent);
  EXPECT_EQ(res.carrier_message_id, "40317f5c-1");
  ASSERT_EQ(res.attempts.size(), 2u);
  EXPECT_EQ(res.attempts[0].error_code, "10011");
  EXPECT_EQ(res.attempts[1].backoff, 7000ms);
  ASSERT_EQ(tx.targets().size(), 2u);
  EXPECT_EQ(tx.targets()[0], "/v2/messages");
}

TEST_F(RelaySend, ConnectRefusedIsRetriedThenFailedOver) {
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  auto c1 = http_carrier("c1", closed_url());
  c1.retries = 1;
  set_carriers({c1, http_carrier("c2", c2.url())});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1", "c2"});
  EXPECT_EQ(res.status, relay_status::sent);
  EXPECT_EQ(res.carrier, "c2");
  ASSERT_EQ(res.attempts.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(res.attempts[i].carrier, "c1");
    EXPECT_EQ(res.attempts[i].error_code, "connect");
    EXPECT_FALSE(res.attempts[i].request_sent);
  }
  EXPECT_EQ(res.attempts[2].carrier, "c2");
  EXPECT_TRUE(res.attempts[2].accepted);
  EXPECT_EQ(delays_.size(), 1u);
  EXPECT_EQ(c2.requests(), 1u);
}

TEST_F(RelaySend, TimeoutAfterSendingIsUnknownAndNotFailedOver) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) {
    scripted_reply r;
    r.hang = true;
    return r;
  });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  auto s1 = http_carrier("c1", c1.url());
  s1.timeout_ms = 300;
  set_carriers({s1, http_carrier("c2", c2.url())});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1", "c2"});
  EXPECT_EQ(res.status, relay_status::failed);
  EXPECT_TRUE(res.outcome_unknown);
  EXPECT_EQ(res.error_code, "timeout");
  EXPECT_EQ(res.carrier, "c1");
  ASSERT_EQ(res.attempts.size(), 1u);
  EXPECT_TRUE(res.attempts[0].request_sent);
  EXPECT_EQ(c1.requests(), 1u);  // not retried either
  EXPECT_EQ(c2.requests(), 0u);
}

TEST_F(RelaySend, RecipientOptedOutStopsAtOnce) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) {
    return scripted_reply{400, {}, R"({"error":{"code":"recipient_opted_out","message":"STOP"}})"};
  });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  set_carriers({http_carrier("c1", c1.url()), http_carrier("c2", c2.url())});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1", "c2"});
  EXPECT_EQ(res.status, relay_status::failed);
  EXPECT_EQ(res.failure, failure_class::recipient_opted_out);
  EXPECT_EQ(res.error_code, "recipient_opted_out");
  EXPECT_FALSE(res.outcome_unknown);
  EXPECT_EQ(res.attempts.size(), 1u);
  EXPECT_EQ(c1.requests(), 1u);
  EXPECT_EQ(c2.requests(), 0u);
  EXPECT_EQ(counters_of("c1").opted_out, 1u);
}

TEST_F(RelaySend, PermanentErrorStopsButRefusedAccountFailsOver) {
  scripted_server bad(io_.get_executor(), [](std::size_t, const std::string&) {
    return scripted_reply{400, {}, R"({"error":{"code":"invalid_to"}})"};
  });
  scripted_server denied(io_.get_executor(), [](std::size_t, const std::string&) {
    return scripted_reply{401, {}, R"({"error":{"code":"unauthorized"}})"};
  });
  scripted_server good(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  set_carriers({http_carrier("bad", bad.url()), http_carrier("denied", denied.url()),
                http_carrier("good", good.url())});
  relay r(io_.get_executor(), states_, options());

  const relay_result stopped = send(r, {"bad", "good"});
  EXPECT_EQ(stopped.status, relay_status::failed);
  EXPECT_EQ(stopped.failure, failure_class::permanent);
  EXPECT_EQ(stopped.error_code, "invalid_to");
  EXPECT_EQ(good.requests(), 0u);

  const relay_result over = send(r, {"denied", "good"});
  EXPECT_EQ(over.status, relay_status::sent);
  EXPECT_EQ(over.carrier, "good");
  ASSERT_EQ(over.attempts.size(), 2u);
  EXPECT_EQ(over.attempts[0].http_status, 401);
  EXPECT_EQ(denied.requests(), 1u);  // not retried
  EXPECT_TRUE(delays_.empty());
}

TEST_F(RelaySend, RetryableExhaustedOnEveryCarrierFails) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) {
    return scripted_reply{500, {}, "{}"};
  });
  auto s1 = http_carrier("c1", c1.url());
  s1.retries = 2;
  set_carriers({s1});
  relay r(io_.get_executor(), states_, options());
  const relay_result res = send(r, {"c1"});
  EXPECT_EQ(res.status, relay_status::failed);
  EXPECT_EQ(res.failure, failure_class::retryable);
  EXPECT_FALSE(res.outcome_unknown);
  EXPECT_EQ(res.attempts.size(), 3u);  // 1 + retries
  EXPECT_EQ(c1.requests(), 3u);
  EXPECT_EQ(delays_.size(), 2u);
}

TEST_F(RelaySend, SandboxAppendsOneLinePerMessage) {
  test::temp_dir dir;
  config::carrier_settings sb;
  sb.name = "sandbox";
  sb.type = config::carrier_type::sandbox;
  config::sandbox_credentials creds;
  creds.outbox = dir.path() / "out" / "outbox.jsonl";
  sb.credentials = creds;
  set_carriers({sb});
  relay r(io_.get_executor(), states_, options());
  const relay_result a = send(r, {"sandbox"}, message("first"));
  const relay_result b = send(r, {"sandbox"}, message("second\nline"));
  EXPECT_EQ(a.status, relay_status::sent);
  EXPECT_EQ(a.carrier_message_id, "sandbox-first");
  EXPECT_EQ(b.status, relay_status::sent);
  std::ifstream in(creds.outbox);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("message_id":"first")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("message_id":"second\nline")"), std::string::npos);
  EXPECT_EQ(counters_of("sandbox").accepted, 2u);
}

}  // namespace
}  // namespace stopgate::carriers::relay
