// The relay's shared protection against scripted carriers on loopback: circuit breaker,
// concurrency limit (also across threads), rate limit, stop(), reconfiguration keeping
// state, the outbox across threads, and a real carrier format (Twilio) end to end.
#include "carriers/relay/outbox.hpp"
#include "tests/carriers/relay_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>
#include <thread>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::carriers::relay {
namespace {

using namespace std::chrono_literals;
using test::scripted_reply;
using test::scripted_server;
using relay_test::http_carrier;
using relay_test::message;
using relay_test::ok;
using RelayProtection = relay_test::relay_fixture;
namespace asio = boost::asio;

scripted_reply slow_ok(std::chrono::milliseconds delay) {
  scripted_reply r = ok();
  r.delay = delay;
  return r;
}

// Polls `cond` on the executor (no sleeping thread), up to `limit`.
asio::awaitable<bool> eventually(std::function<bool()> cond, std::chrono::milliseconds limit = 5s) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    t.expires_after(2ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return true;
}

TEST_F(RelayProtection, CircuitOpensAfterThresholdAndIsSkipped) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) {
    return scripted_reply{503, {}, "{}"};
  });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  auto s1 = http_carrier("c1", c1.url());
  s1.retries = 0;
  s1.circuit_failure_threshold = 2;
  s1.circuit_open_ms = 3'600'000;
  set_carriers({s1, http_carrier("c2", c2.url())});
  relay r(io_.get_executor(), states_, options());
  for (int i = 0; i < 2; ++i) {
    const relay_result res = send(r, {"c1", "c2"});
    ASSERT_EQ(res.status, relay_status::sent) << i;
    EXPECT_EQ(res.carrier, "c2");
    EXPECT_EQ(res.attempts[0].http_status, 503);
  }
  EXPECT_EQ(counters_of("c1").circuit, circuit_state::open);
  const relay_result skipped = send(r, {"c1", "c2"});
  EXPECT_EQ(skipped.status, relay_status::sent);
  EXPECT_EQ(skipped.carrier, "c2");
  ASSERT_EQ(skipped.attempts.size(), 2u);
  EXPECT_EQ(skipped.attempts[0].error_code, "circuit_open");
  EXPECT_FALSE(skipped.attempts[0].request_sent);
  EXPECT_EQ(c1.requests(), 2u);  // the open circuit made no call
  EXPECT_EQ(counters_of("c1").skipped_open, 1u);
  EXPECT_EQ(counters_of("c1").retryable, 2u);

  // With no other carrier the send fails retryably, saying why.
  const relay_result alone = send(r, {"c1"});
  EXPECT_EQ(alone.status, relay_status::failed);
  EXPECT_EQ(alone.error_code, "circuit_open");
  EXPECT_EQ(alone.failure, failure_class::retryable);
  EXPECT_FALSE(alone.outcome_unknown);
}

TEST_F(RelayProtection, ConcurrencyLimitHoldsAcrossRelays) {
  scripted_server c1(io_.get_executor(),
                     [](std::size_t, const std::string&) { return slow_ok(50ms); });
  auto s1 = http_carrier("c1", c1.url());
  s1.max_in_flight = 2;
  set_carriers({s1});
  relay a(io_.get_executor(), states_, options());
  relay b(io_.get_executor(), states_, options());
  std::vector<relay_result> results;
  run([&]() -> asio::awaitable<void> {
    int pending = 6;
    for (int i = 0; i < 6; ++i)
      asio::co_spawn(
          io_,
          [&, i]() -> asio::awaitable<void> {
            const std::vector<std::string> route{"c1"};
            results.push_back(co_await (i % 2 ? a : b).async_send(settings_, route, message()));
            --pending;
          },
          asio::detached);
    co_await eventually([&] { return pending == 0; }, 10s);
  });
  ASSERT_EQ(results.size(), 6u);
  for (const auto& r : results) EXPECT_EQ(r.status, relay_status::sent) << r.error_code;
  EXPECT_EQ(c1.requests(), 6u);
  EXPECT_EQ(c1.max_concurrent(), 2u);
  EXPECT_EQ(counters_of("c1").in_flight, 0u);
}

TEST(RelayProtectionThreads, ConcurrencyLimitHoldsAcrossWorkerThreads) {
  // The server and two workers on three threads, as in the gateway.
  asio::io_context server_io{1}, io1{1}, io2{1};
  auto guard = asio::make_work_guard(server_io);
  scripted_server c1(server_io.get_executor(),
                     [](std::size_t, const std::string&) { return slow_ok(20ms); });
  std::thread server_thread([&] { server_io.run(); });
  config::settings s;
  auto s1 = http_carrier("c1", c1.url());
  s1.max_in_flight = 3;
  s.carriers = {s1};
  auto states = std::make_shared<carrier_states>();
  states->configure(s);

  std::atomic<int> sent{0};
  auto worker = [&](asio::io_context& io) {
    relay r(io.get_executor(), states);
    for (int i = 0; i < 8; ++i)
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            const std::vector<std::string> route{"c1"};
            auto res = co_await r.async_send(s, route, message());
            if (res.status == relay_status::sent) ++sent;
          },
          asio::detached);
    io.run();  // until every send finished
  };
  std::thread w1([&] { worker(io1); });
  std::thread w2([&] { worker(io2); });
  w1.join();
  w2.join();
  asio::post(server_io, [&] { c1.stop(); guard.reset(); });
  server_thread.join();
  EXPECT_EQ(sent.load(), 16);
  EXPECT_EQ(c1.requests(), 16u);
  EXPECT_LE(c1.max_concurrent(), 3u);
  EXPECT_GE(c1.max_concurrent(), 2u);  // the limit, not a lack of load, held it down
  EXPECT_EQ(states->counters()[0].in_flight, 0u);
}

TEST_F(RelayProtection, NoSlotBeforeTheDeadlineFailsOver) {
  scripted_server c1(io_.get_executor(),
                     [](std::size_t, const std::string&) { return slow_ok(400ms); });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  auto s1 = http_carrier("c1", c1.url());
  s1.max_in_flight = 1;
  set_carriers({s1, http_carrier("c2", c2.url())});
  auto o = options();
  o.send_deadline = 100ms;
  relay r(io_.get_executor(), states_, o);
  std::vector<relay_result> results;
  run([&]() -> asio::awaitable<void> {
    int pending = 2;
    for (int i = 0; i < 2; ++i)
      asio::co_spawn(
          io_,
          [&]() -> asio::awaitable<void> {
            const std::vector<std::string> route{"c1", "c2"};
            results.push_back(co_await r.async_send(settings_, route, message()));
            --pending;
          },
          asio::detached);
    co_await eventually([&] { return pending == 0; }, 10s);
  });
  ASSERT_EQ(results.size(), 2u);
  // The second send found the one slot taken for longer than its deadline: on to c2.
  const relay_result& second = results[0];
  EXPECT_EQ(second.status, relay_status::sent);
  EXPECT_EQ(second.carrier, "c2");
  ASSERT_EQ(second.attempts.size(), 2u);
  EXPECT_EQ(second.attempts[0].error_code, "busy");
  EXPECT_EQ(results[1].carrier, "c1");
  EXPECT_EQ(c1.requests(), 1u);
  EXPECT_EQ(counters_of("c1").limited, 1u);
}

TEST_F(RelayProtection, RateLimitFailsOverWhenTheWaitPassesTheDeadline) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  scripted_server c2(io_.get_executor(), [](std::size_t, const std::string&) { return ok(); });
  auto s1 = http_carrier("c1", c1.url());
  s1.rate_per_second = 1;  // burst 1: the second token is a second away
  set_carriers({s1, http_carrier("c2", c2.url())});
  auto o = options();
  o.send_deadline = 200ms;
  relay r(io_.get_executor(), states_, o);
  EXPECT_EQ(send(r, {"c1", "c2"}).carrier, "c1");
  const relay_result second = send(r, {"c1", "c2"});
  EXPECT_EQ(second.carrier, "c2");
  ASSERT_EQ(second.attempts.size(), 2u);
  EXPECT_EQ(second.attempts[0].error_code, "rate_limited");
  EXPECT_EQ(c1.requests(), 1u);
  EXPECT_EQ(counters_of("c1").limited, 1u);
}

TEST_F(RelayProtection, StopFailsInFlightAndLaterSends) {
  scripted_server c1(io_.get_executor(), [](std::size_t, const std::string&) {
    scripted_reply r;
    r.hang = true;
    return r;
  });
  set_carriers({http_carrier("c1", c1.url())});
  relay r(io_.get_executor(), states_, options());
  relay_result in_flight;
  run([&]() -> asio::awaitable<void> {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          const std::vector<std::string> route{"c1"};
          in_flight = co_await r.async_send(settings_, route, message());
          done = true;
        },
        asio::detached);
    EXPECT_TRUE(co_await eventually([&] { return c1.requests() == 1; }));
    r.stop();
    EXPECT_TRUE(co_await eventually([&] { return done; }));
  });
  EXPECT_EQ(in_flight.status, relay_status::failed);
  EXPECT_EQ(in_flight.error_code, "stopped");
  EXPECT_TRUE(in_flight.outcome_unknown);  // the request had gone out
  const relay_result later = send(r, {"c1"});
  EXPECT_EQ(later.status, relay_status::failed);
  EXPECT_EQ(later.error_code, "stopped");
  EXPECT_FALSE(later.outcome_unknown);
  EXPECT_EQ(c1.requests(), 1u);
}

TEST_F(RelayProtection, TwilioFormatEndToEnd) {
  scripted_server tw(io_.get_executor(), [](std::size_t n, const std::string&) {
    if (n == 0) return scripted_reply{201, {}, R"({"sid":"SM0123","status":"queued"})"};
    return scripted_reply{400, {}, R"({"code":21610,"message":"replied with STOP","status":400})"};
  });
  config::carrier_settings t;
  t.name = "twilio";
  t.type = config::carrier_type::twilio;
  t.base_url = tw.url("");
  config::twilio_credentials creds;
  creds.account_sid = "AC00000000000000000000000000000000";
  t.credentials = creds;
  set_carriers({t});
  relay r(io_.get_executor(), states_, options());
  const relay_result ok_res = send(r, {"twilio"});
  EXPECT_EQ(ok_res.status, relay_status::sent);
  EXPECT_EQ(ok_res.carrier_message_id, "SM0123");
  ASSERT_EQ(tw.targets().size(), 1u);
  EXPECT_EQ(tw.targets()[0], "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json");
  EXPECT_NE(tw.bodies()[0].find("To=%2B14155552671"), std::string::npos);
  const relay_result stop = send(r, {"twilio"});
  EXPECT_EQ(stop.status, relay_status::failed);
  EXPECT_EQ(stop.failure, failure_class::recipient_opted_out);
  EXPECT_EQ(stop.error_code, "21610");
}

TEST(RelayCarrierStates, ReconfigureKeepsStateOfSameNameAndType) {
  config::settings s;
  auto c = http_carrier("c1", "http://127.0.0.1:9/send");
  c.circuit_failure_threshold = 1;
  s.carriers = {c};
  carrier_states states;
  states.configure(s);
  const auto now = std::chrono::steady_clock::now();
  auto st = states.get(c);
  ASSERT_TRUE(st->try_enter_circuit(now));
  st->finish_call(call_result::retryable, true, 3ms, now);
  ASSERT_EQ(states.counters()[0].circuit, circuit_state::open);

  c.timeout_ms = 1234;  // a reload that changes limits only
  s.carriers = {c};
  states.configure(s);
  EXPECT_EQ(states.get(c), st);
  EXPECT_EQ(states.counters()[0].circuit, circuit_state::open);
  EXPECT_EQ(states.counters()[0].retryable, 1u);

  c.type = config::carrier_type::sandbox;  // same name, another carrier: a fresh state
  c.credentials = config::sandbox_credentials{};
  s.carriers = {c};
  states.configure(s);
  EXPECT_NE(states.get(c), st);
  EXPECT_EQ(states.counters()[0].circuit, circuit_state::closed);
  EXPECT_EQ(states.counters()[0].retryable, 0u);

  s.carriers.clear();
  states.configure(s);
  EXPECT_TRUE(states.counters().empty());
}

TEST(RelayOutbox, LinesFromManyThreadsNeverInterleave) {
  test::temp_dir dir;
  outbox box(dir.path() / "outbox.jsonl");
  const std::string line = std::string(3000, 'x') + "\n";  // larger than a pipe's atomic write
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) ASSERT_FALSE(box.append(line));
    });
  for (auto& t : threads) t.join();
  std::ifstream in(dir.path() / "outbox.jsonl");
  std::size_t n = 0;
  for (std::string l; std::getline(in, l); ++n) ASSERT_EQ(l.size(), 3000u) << "line " << n;
  EXPECT_EQ(n, 800u);
}

TEST(RelayOutbox, UnwritablePathIsAnError) {
  test::temp_dir dir;
  outbox box(dir.path() / "file" / "outbox.jsonl");
  std::ofstream(dir.path() / "file") << "not a directory";
  EXPECT_TRUE(box.append("x\n"));
}

}  // namespace
}  // namespace stopgate::carriers::relay
