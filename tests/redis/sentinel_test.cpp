// The client through real Sentinels (tests/support/redis_sentinel: a primary, a replica,
// three Sentinels): discovery, +switch-master after SENTINEL FAILOVER, and never a write
// to a node that is a replica.
#include "redis/client.hpp"
#include "tests/redis/coro_test_support.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::redis_sentinel;
using test_support::eventually;
using test_support::pause;
using test_support::run;

client_options options_for(const std::string& url) {
  client_options o;
  o.ep = parse_url(url).value();
  o.command_timeout = 2s;
  o.reconnect_min = 10ms;
  o.reconnect_max = 100ms;
  return o;
}

class RedisSentinel : public ::testing::Test {
 protected:
  redis_sentinel setup_;
  asio::io_context io_;
};

TEST_F(RedisSentinel, FindsThePrimaryPastASentinelThatIsDown) {
  // The first Sentinel listed does not run.
  std::string url = setup_.url();
  url.replace(url.find("://") + 3, 0, "127.0.0.1:" + std::to_string(test::free_port()) + ",");
  client c(io_.get_executor(), options_for(url));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    auto r = co_await c.async_exec({"SET", "where", "primary"});
    EXPECT_TRUE(r && r->str == "OK");
  });
  EXPECT_EQ(setup_.cli(setup_.data_ports()[0], "GET where"), "primary");
  EXPECT_EQ(c.stats().primary_changes, 1u);
  EXPECT_EQ(c.stats().replica_refusals, 0u);
}

TEST_F(RedisSentinel, FollowsTheNewPrimaryAfterAFailover) {
  client c(io_.get_executor(), options_for(setup_.url()));
  c.start();
  const int old_primary = setup_.data_ports()[0];
  std::atomic<int> new_primary{0};
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", "n", "1"}));
    // Replication is asynchronous: a replica promoted before the write reached it would lose
    // it (that loss is what redis.min_replica_acks guards against). Every replica holds it.
    const auto replicas = std::to_string(setup_.data_ports().size() - 1);
    auto acked = co_await c.async_exec({"WAIT", replicas, "10000"});
    CO_ASSERT(acked && acked->kind == reply::type::integer);
    CO_ASSERT(std::to_string(acked->integer) == replicas);
    // The failover runs beside the event loop, as it would in production: the client hears
    // +switch-master while it happens. The old primary stays a writable primary for seconds
    // after the switch (the Sentinels demote it later), so a write there would succeed:
    // only following the announcement keeps the client off it.
    std::thread t([&] { new_primary = setup_.failover(); });
    const bool done = co_await eventually([&] { return new_primary != 0; }, 30s);
    t.join();
    CO_ASSERT(done);
    EXPECT_TRUE(co_await eventually([&] { return c.stats().switch_messages >= 1; }, 10s));
    bool ok = false;
    for (int i = 0; i < 500 && !ok; ++i) {
      auto r = co_await c.async_exec({"INCR", "n"});
      ok = r && r->kind == reply::type::integer;
      if (ok) {
        EXPECT_EQ(r->integer, 2);
      } else {
        co_await pause(20ms);
      }
    }
    EXPECT_TRUE(ok);
    EXPECT_GE(c.stats().primary_changes, 2u);
  });
  ASSERT_NE(new_primary.load(), old_primary);
  EXPECT_EQ(setup_.cli(new_primary, "GET n"), "2");
}

TEST_F(RedisSentinel, NeverWritesToANodeThatIsAReplica) {
  client c(io_.get_executor(), options_for(setup_.url()));
  c.start();
  const int p = setup_.data_ports()[0], r = setup_.data_ports()[1];
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", "a", "1"}));
  });
  // Behind the Sentinels' back the primary becomes a replica (of the former replica): the
  // Sentinels still name it for a while.
  ASSERT_EQ(setup_.cli(r, "REPLICAOF NO ONE"), "OK");
  ASSERT_EQ(setup_.cli(p, "REPLICAOF 127.0.0.1 " + std::to_string(r)), "OK");
  ASSERT_TRUE(test::wait_until(
      [&] {
        return test::info_field(setup_.cli(p, "INFO replication"), "master_link_status") == "up";
      },
      10s));
  run(io_, [&]() -> asio::awaitable<void> {
    // The open connection gets READONLY; the client drops it, asks the Sentinels, connects
    // to the node they name, sees ROLE slave and refuses it.
    auto w = co_await c.async_exec({"SET", "b", "2"});
    CO_ASSERT(w);
    EXPECT_TRUE(w->is_error() && w->str.starts_with("READONLY")) << w->str;
    EXPECT_EQ(c.stats().readonly_replies, 1u);
    EXPECT_TRUE(co_await eventually([&] { return c.stats().replica_refusals >= 1; }, 10s));
    for (int i = 0; i < 20; ++i) {
      auto again = co_await c.async_exec({"SET", "b", "2"});
      EXPECT_TRUE(!again || (again->is_error() && again->str.starts_with("READONLY")));
      co_await pause(10ms);
    }
    EXPECT_FALSE(c.connected());
  });
  EXPECT_EQ(setup_.cli(p, "EXISTS b"), "0");
  EXPECT_EQ(setup_.cli(r, "EXISTS b"), "0");
  // The primary is a primary again: the client connects and writes.
  ASSERT_EQ(setup_.cli(p, "REPLICAOF NO ONE"), "OK");
  ASSERT_EQ(setup_.cli(r, "REPLICAOF 127.0.0.1 " + std::to_string(p)), "OK");
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(10s));
    auto w = co_await c.async_exec({"SET", "c", "3"});
    EXPECT_TRUE(w && w->str == "OK");
  });
  EXPECT_EQ(setup_.cli(p, "GET c"), "3");
}

TEST_F(RedisSentinel, SubscriberListensOnThePrimary) {
  subscriber sub(io_.get_executor(), options_for(setup_.url()));
  std::vector<std::string> got;
  bool subscribed = false;
  sub.subscribe("news");
  sub.on_message([&](std::string_view, std::string_view m) { got.emplace_back(m); });
  sub.on_subscribed([&] { subscribed = true; });
  sub.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(co_await eventually([&] { return subscribed; }, 10s));
    setup_.cli(setup_.data_ports()[0], "PUBLISH news hello");
    EXPECT_TRUE(co_await eventually([&] { return !got.empty(); }, 5s));
  });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "hello");
}

}  // namespace
}  // namespace stopgate::redis
