// Opt-out, opt-in and consent writes wait for replica acknowledgements (redis.min_replica_acks)
// before the store reports them recorded: a real primary with a real replica.
#include "dnc/contacts/keys.hpp"
#include "dnc/contacts/store.hpp"
#include "tests/support/redis_node.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::redis_server;

const model::phone_number alice = model::phone_number::nanp(415, 5552671);
const model::sys_time when = model::sys_time(std::chrono::sys_days(std::chrono::year(2026) / 3 / 2));

// One opt-out of many running at once; counts its failure and signals the last one done.
asio::awaitable<void> one_optout(contact_store& s, int i, std::shared_ptr<int> left, std::shared_ptr<int> failed,
                                 asio::steady_timer& done) {
  auto r = co_await s.async_record_optout(model::phone_number::nanp(415, 5553000 + i), "acme", when, "api",
                                          "ev-" + std::to_string(i));
  if (!r || !*r) ++*failed;
  if (--*left == 0) done.cancel();
}

class ReplicaAcks : public ::testing::Test {
 protected:
  void SetUp() override {
    // Sync at once (the default waits 5 s for more replicas to join).
    ASSERT_EQ(primary_.cli("CONFIG SET repl-diskless-sync-delay 0"), "OK");
    ASSERT_EQ(replica_.cli("REPLICAOF 127.0.0.1 " + std::to_string(primary_.port())), "OK");
    ASSERT_TRUE(test::wait_until(
        [&] {
          return test::info_field(replica_.cli("INFO replication"), "master_link_status") == "up";
        },
        10s));
  }

  // Runs f(store) with a store whose writes need `acks` replicas. A test that expects the acks
  // passes a generous timeout (a loaded machine is slow to replicate); one that expects none a
  // short one.
  template <class F>
  auto run(unsigned acks, F f, std::chrono::milliseconds timeout = 5s) {
    asio::io_context io;
    redis::client_options o;
    o.ep = *redis::parse_url(primary_.tcp_url());
    o.command_timeout = 10s;
    redis::client reads(io.get_executor(), o), writes(io.get_executor(), o);
    reads.start();
    writes.start();
    contact_store_options so;
    so.min_replica_acks = acks;
    so.replica_ack_timeout = timeout;
    so.acked_writes = &writes;
    contact_store store(reads, contact_keys::pseudonymizer::create("0123456789abcdef-test").value(),
                        so);
    using result_t = decltype(f(store).await_resume());
    auto body = [&]() -> asio::awaitable<result_t> {
      EXPECT_FALSE(co_await reads.async_wait_connected(5s));
      EXPECT_FALSE(co_await writes.async_wait_connected(5s));
      auto out = co_await f(store);
      reads.stop();
      writes.stop();
      co_return out;
    };
    auto fut = asio::co_spawn(io, body(), asio::use_future);
    io.run();
    return fut.get();
  }

  redis_server primary_, replica_;
};

TEST_F(ReplicaAcks, AnOptoutIsReportedOnceTheReplicaHoldsIt) {
  auto r = run(1, [](contact_store& s) {
    return s.async_record_optout(alice, "acme", when, "api", "ev-1");
  });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(*r);
  // Acknowledged means on the replica already: a failover now would keep it.
  const auto keys = contact_keys::number_keys(
      contact_keys::pseudonymizer::create("0123456789abcdef-test").value(), alice);
  EXPECT_NE(replica_.cli("HGETALL '" + std::string(keys.hash()) + "'"), "");
  EXPECT_EQ(replica_.cli("HEXISTS '" + std::string(keys.hash()) + "' '" +
                         contact_keys::optout_field("acme") + "'"),
            "1");
}

TEST_F(ReplicaAcks, AReplicaThatDoesNotAnswerFailsTheWriteInsteadOfAcknowledgingIt) {
  replica_.pause();  // connected but silent: it never acknowledges
  auto r = run(
      1, [](contact_store& s) { return s.async_record_optout(alice, "acme", when, "api", "ev-1"); },
      300ms);
  replica_.resume();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(contact_errc::replicas_behind)) << r.error().message();
  consent_record c;
  c.fact.sender = "acme";
  c.fact.captured_at = when;
  c.fact.evidence_id = "ev-2";
  replica_.pause();
  auto cr = run(1, [&](contact_store& s) { return s.async_record_consent(alice, c); }, 300ms);
  auto oi = run(1, [&](contact_store& s) { return s.async_record_optin(alice, c); }, 300ms);
  replica_.resume();
  EXPECT_EQ(cr.error(), make_error_code(contact_errc::replicas_behind));
  EXPECT_EQ(oi.error(), make_error_code(contact_errc::replicas_behind));
}

TEST_F(ReplicaAcks, WithoutAcksNothingWaitsForTheReplica) {
  replica_.pause();
  auto r = run(0, [](contact_store& s) {
    return s.async_record_optout(alice, "acme", when, "api", "ev-1");
  });
  replica_.resume();
  ASSERT_TRUE(r) << r.error().message();
}

TEST_F(ReplicaAcks, MoreAcksThanReplicasIsNeverAcknowledged) {
  auto r = run(
      2, [](contact_store& s) { return s.async_record_optout(alice, "acme", when, "api", "ev-1"); },
      300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(contact_errc::replicas_behind));
}

}  // namespace
}  // namespace stopgate::dnc::contacts

namespace stopgate::dnc::contacts {
namespace {

constexpr int n = 200;

// Many acked writes at once are acknowledged by fewer WAITs than writes (the writes answered
// while a WAIT is out share the next one), and every one of them still only after the replica
// holds it.
TEST_F(ReplicaAcks, ConcurrentWritesShareTheirWaits) {
  ASSERT_EQ(primary_.cli("CONFIG RESETSTAT"), "OK");
  const int failures = run(1, [](contact_store& s) -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    auto left = std::make_shared<int>(n);
    auto failed = std::make_shared<int>(0);
    asio::steady_timer done(ex, asio::steady_timer::time_point::max());
    for (int i = 0; i < n; ++i) asio::co_spawn(ex, one_optout(s, i, left, failed, done), asio::detached);
    while (*left > 0) {
      boost::system::error_code ignored;
      co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return *failed;
  });
  EXPECT_EQ(failures, 0);
  const std::string waits = test::info_field(primary_.cli("INFO commandstats"), "cmdstat_wait");
  ASSERT_EQ(waits.rfind("calls=", 0), 0u) << waits;
  const int calls = std::stoi(waits.substr(6));
  EXPECT_GE(calls, 1);
  EXPECT_LT(calls, n) << waits;
  // Acknowledged means on the replica: the last write too.
  const auto keys = contact_keys::number_keys(
      contact_keys::pseudonymizer::create("0123456789abcdef-test").value(),
      model::phone_number::nanp(415, 5553000 + n - 1));
  EXPECT_NE(replica_.cli("HGETALL '" + std::string(keys.hash()) + "'"), "");
}

}  // namespace
}  // namespace stopgate::dnc::contacts
