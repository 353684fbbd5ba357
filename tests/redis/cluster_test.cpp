// The client on a real Redis Cluster (tests/support/redis_cluster: 3 primaries, 3 replicas):
// routing by slot, pipelines split by node, MOVED and ASK from real slot migrations,
// TRYAGAIN and CLUSTERDOWN retried within bounds, scripts per node, failovers.
#include "redis/client.hpp"
#include "redis/script.hpp"
#include "redis/slot.hpp"
#include "tests/redis/coro_test_support.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace stopgate::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::redis_cluster;
using test_support::eventually;
using test_support::run;

client_options options_for(const std::string& url) {
  client_options o;
  o.ep = parse_url(url).value();
  o.command_timeout = 2s;  // 2 shared cores: never a deadline by accident
  o.reconnect_min = 10ms;
  o.reconnect_max = 100ms;
  return o;
}

// A key of the given slot's neighbourhood: "<prefix>{<tag>}" where the tag is chosen so the
// key lands on `slot` (search over small tags; every slot has one below 100,000).
std::string key_in_slot(int slot, const std::string& prefix) {
  for (int i = 0;; ++i) {
    const std::string tag = "t" + std::to_string(i);
    if (key_slot(tag) == slot) return prefix + "{" + tag + "}";
  }
}

class RedisCluster : public ::testing::Test {
 protected:
  redis_cluster cluster_;
  asio::io_context io_;
};

TEST_F(RedisCluster, KeySlotsMatchClusterKeyslot) {
  const int port = cluster_.ports()[0];
  const std::vector<std::string> keys{"foo",
                                      "{user1000}.following",
                                      "foo{}{bar}",
                                      "foo{{bar}}zap",
                                      "foo{bar}{zap}",
                                      "{}",
                                      "a{b}c",
                                      "open{only",
                                      "x",
                                      "contacts:{+15551234567}:h",
                                      "0123456789abcdefghijklmnop"};
  for (const auto& k : keys)
    EXPECT_EQ(std::to_string(key_slot(k)), cluster_.cli(port, "CLUSTER KEYSLOT '" + k + "'")) << k;
}

TEST_F(RedisCluster, CommandsGoToTheNodeOfTheirKey) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back("k" + std::to_string(i));
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    EXPECT_TRUE(c.connected());
    for (const auto& k : keys) {
      auto r = co_await c.async_exec({"SET", k, "v" + k});
      EXPECT_TRUE(r && r->str == "OK") << k;
    }
    auto pong = co_await c.async_exec({"PING"});
    EXPECT_TRUE(pong && pong->str == "PONG");
  });
  // Each key is on the primary of its slot: the map was right, nothing was redirected.
  std::set<int> nodes;
  const std::vector<int> owners = cluster_.slot_owners();
  for (const auto& k : keys) {
    const int owner = owners[key_slot(k)];
    nodes.insert(owner);
    EXPECT_EQ(cluster_.cli(owner, "GET " + k), "v" + k);
  }
  EXPECT_EQ(nodes.size(), 3u);
  EXPECT_EQ(c.stats().moved, 0u);
  EXPECT_EQ(c.stats().ask, 0u);
}

TEST_F(RedisCluster, PipelinesAcrossNodesAnswerInRequestOrder) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    pipeline p;
    for (int i = 0; i < 300; ++i) p.add({"SET", "p" + std::to_string(i), std::to_string(i)});
    auto set = co_await c.async_exec(p);
    CO_ASSERT(set && set->size() == 300u);
    p.clear();
    // Reads, a keyless PING, and a transaction on one slot, interleaved.
    for (int i = 0; i < 300; ++i) {
      p.add({"GET", "p" + std::to_string(i)});
      if (i == 150) {
        p.add({"PING"});
        p.add({"MULTI"}).add({"INCR", "{tx}a"}).add({"INCRBY", "{tx}b", "5"}).add({"EXEC"});
      }
    }
    auto got = co_await c.async_exec(p);
    CO_ASSERT(got && got->size() == 305u);
    std::size_t at = 0;
    for (int i = 0; i < 300; ++i) {
      EXPECT_EQ((*got)[at].str, std::to_string(i)) << i;
      ++at;
      if (i == 150) {
        EXPECT_EQ((*got)[at++].str, "PONG");
        EXPECT_EQ((*got)[at++].str, "OK");
        EXPECT_EQ((*got)[at++].str, "QUEUED");
        EXPECT_EQ((*got)[at++].str, "QUEUED");
        const reply& exec = (*got)[at++];
        CO_ASSERT(exec.kind == reply::type::array && exec.elements.size() == 2u);
        EXPECT_EQ(exec.elements[0].integer, 1);
        EXPECT_EQ(exec.elements[1].integer, 5);
      }
    }
  });
  EXPECT_EQ(c.stats().moved, 0u);
}

TEST_F(RedisCluster, RefusesConnectionStateCommandsAloneAndBadKeyIndexes) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    for (const char* name : {"MULTI", "EXEC", "DISCARD", "UNWATCH"}) {
      auto r = co_await c.async_exec({name});
      EXPECT_EQ(r.error(), make_error_code(errc::bad_command)) << name;
    }
    auto watch = co_await c.async_exec({"WATCH", "k"});
    EXPECT_EQ(watch.error(), make_error_code(errc::bad_command));
    auto bad = co_await c.async_exec(command_args("SET", "k", "v").key_at(3));
    EXPECT_EQ(bad.error(), make_error_code(errc::bad_command));
    // A named key routes a command the rule does not know.
    auto named = co_await c.async_exec(command_args("SET", "named", "v").key_at(1));
    EXPECT_TRUE(named && named->str == "OK");
  });
}

TEST_F(RedisCluster, MovedAfterASlotMigrationRefreshesTheMap) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  const std::string key = "moving";
  const int slot = key_slot(key);
  const int from = cluster_.primary_of_slot(slot);
  int to = 0;
  for (int p : cluster_.primaries())
    if (p != from) to = p;
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", key, "before"}));
  });
  const auto refreshes = c.stats().map_refreshes;
  cluster_.move_slot(slot, to);
  ASSERT_EQ(cluster_.cli(to, "GET " + key), "before");
  run(io_, [&]() -> asio::awaitable<void> {
    // The client still routes the slot to `from`, which answers MOVED: followed.
    auto r = co_await c.async_exec({"GET", key});
    EXPECT_TRUE(r && r->str == "before");
    EXPECT_EQ(c.stats().moved, 1u);
    auto w = co_await c.async_exec({"SET", key, "after"});
    EXPECT_TRUE(w && w->str == "OK");
    EXPECT_EQ(c.stats().moved, 1u);  // the slot is routed to its new node now
    // ... and the whole map was loaded again.
    EXPECT_TRUE(co_await eventually([&] { return c.stats().map_refreshes > refreshes; }, 5s));
  });
  EXPECT_EQ(cluster_.cli(to, "GET " + key), "after");
}

TEST_F(RedisCluster, AskDuringAMigrationGoesToTheTargetWithoutChangingTheMap) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  const std::string moved_key = key_in_slot(777, "a"), stays_key = key_in_slot(777, "b");
  const int from = cluster_.primary_of_slot(777);
  int to = 0;
  for (int p : cluster_.primaries())
    if (p != from) to = p;
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", moved_key, "1"}));
    CO_ASSERT(co_await c.async_exec({"SET", stays_key, "2"}));
  });
  cluster_.begin_migration(777, to);
  cluster_.migrate_key(777, to, moved_key);
  run(io_, [&]() -> asio::awaitable<void> {
    auto a = co_await c.async_exec({"GET", moved_key});
    EXPECT_TRUE(a && a->str == "1");
    EXPECT_EQ(c.stats().ask, 1u);
    // The source still serves the keys it has: the map did not move the slot.
    auto b = co_await c.async_exec({"GET", stays_key});
    EXPECT_TRUE(b && b->str == "2");
    EXPECT_EQ(c.stats().ask, 1u);
    // In a pipeline too: the migrated key's command is sent again alone with ASKING.
    pipeline p;
    p.add({"GET", stays_key}).add({"GET", moved_key}).add({"INCR", moved_key});
    auto both = co_await c.async_exec(p);
    CO_ASSERT(both && both->size() == 3u);
    EXPECT_EQ((*both)[0].str, "2");
    EXPECT_EQ((*both)[1].str, "1");
    EXPECT_EQ((*both)[2].integer, 2);
    EXPECT_EQ(c.stats().ask, 3u);
    EXPECT_EQ(c.stats().moved, 0u);
  });
  cluster_.finish_migration(777, to);
  run(io_, [&]() -> asio::awaitable<void> {
    auto b = co_await c.async_exec({"GET", stays_key});
    EXPECT_TRUE(b && b->str == "2");
    EXPECT_EQ(c.stats().moved, 1u);
  });
}

TEST_F(RedisCluster, TryAgainIsRetriedWithinBounds) {
  client_options o = options_for(cluster_.url());
  o.max_retries = 2;
  int retries_seen = 0;
  bool finish_on_retry = false;
  const std::string a = key_in_slot(4242, "a"), b = key_in_slot(4242, "b");
  const int from = cluster_.primary_of_slot(4242);
  int to = 0;
  for (int p : cluster_.primaries())
    if (p != from) to = p;
  o.on_retry = [&](retry_reason why) {
    if (why == retry_reason::tryagain) ++retries_seen;
    // Runs on the client's executor before the resend: the migration ends meanwhile.
    if (finish_on_retry && why == retry_reason::tryagain) cluster_.finish_migration(4242, to);
  };
  client c(io_.get_executor(), o);
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", a, "va"}));
    CO_ASSERT(co_await c.async_exec({"SET", b, "vb"}));
  });
  // One key moved, the other not: a multi-key command on the source answers TRYAGAIN.
  cluster_.begin_migration(4242, to);
  cluster_.migrate_key(4242, to, a);
  run(io_, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_exec({"MGET", a, b});
    CO_ASSERT(r);
    EXPECT_TRUE(r->is_error() && r->str.starts_with("TRYAGAIN")) << r->str;
    EXPECT_EQ(retries_seen, 2);  // max_retries resends, then the last answer
    EXPECT_EQ(c.stats().tryagain, 2u);

    finish_on_retry = true;
    auto ok = co_await c.async_exec({"MGET", a, b});
    CO_ASSERT(ok && ok->kind == reply::type::array && ok->elements.size() == 2u);
    EXPECT_EQ(ok->elements[0].str, "va");
    EXPECT_EQ(ok->elements[1].str, "vb");
    EXPECT_EQ(retries_seen, 3);
  });
}

TEST_F(RedisCluster, ClusterDownIsRetriedWithinBounds) {
  client_options o = options_for(cluster_.url());
  o.max_retries = 3;
  int retries_seen = 0;
  bool heal_on_retry = false;
  const std::string key = key_in_slot(100, "k");
  const int owner = cluster_.primary_of_slot(100);
  o.on_retry = [&](retry_reason why) {
    if (why != retry_reason::clusterdown) return;
    ++retries_seen;
    if (heal_on_retry) {
      cluster_.cli(owner, "CLUSTER ADDSLOTS 101");
      test::wait_until(
          [&] {
            return test::info_field(cluster_.cli(owner, "CLUSTER INFO"), "cluster_state") == "ok";
          },
          10s);
    }
  };
  client c(io_.get_executor(), o);
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", key, "v"}));
  });
  // The owner gives up another of its slots: it no longer sees every slot served and
  // answers CLUSTERDOWN for all of them.
  ASSERT_EQ(cluster_.cli(owner, "CLUSTER DELSLOTS 101"), "OK");
  ASSERT_TRUE(test::wait_until(
      [&] {
        return test::info_field(cluster_.cli(owner, "CLUSTER INFO"), "cluster_state") == "fail";
      },
      10s));
  run(io_, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_exec({"GET", key});
    CO_ASSERT(r);
    EXPECT_TRUE(r->is_error() && r->str.starts_with("CLUSTERDOWN")) << r->str;
    EXPECT_EQ(retries_seen, 3);
    heal_on_retry = true;
    auto ok = co_await c.async_exec({"GET", key});
    EXPECT_TRUE(ok && ok->str == "v");
    EXPECT_EQ(retries_seen, 4);
  });
}

TEST_F(RedisCluster, ScriptsAreLoadedPerNodeThroughNoscript) {
  static constexpr std::string_view text = "return redis.call('INCR', KEYS[1])";
  const script s(text);
  for (int p : cluster_.primaries()) cluster_.cli(p, "SCRIPT FLUSH");
  // One key per primary.
  std::map<int, std::string> key_of;
  const std::vector<int> owners = cluster_.slot_owners();
  for (int i = 0; key_of.size() < 3; ++i) {
    const std::string k = "s" + std::to_string(i);
    key_of.emplace(owners[key_slot(k)], k);
  }
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    for (auto& [node, key] : key_of) {
      std::uint64_t trips = 0;
      const std::array<std::string_view, 1> keys{key};
      auto first = co_await async_eval(c, s, keys, {}, &trips);
      EXPECT_TRUE(first && first->integer == 1);
      EXPECT_EQ(trips, 2u) << "node " << node << " had not seen the script: NOSCRIPT, then EVAL";
      trips = 0;
      auto second = co_await async_eval(c, s, keys, {}, &trips);
      EXPECT_TRUE(second && second->integer == 2);
      EXPECT_EQ(trips, 1u);
    }
  });
  // One node forgets it: only that node's key needs the text again.
  auto it = key_of.begin();
  cluster_.cli(it->first, "SCRIPT FLUSH");
  run(io_, [&]() -> asio::awaitable<void> {
    for (auto& [node, key] : key_of) {
      std::uint64_t trips = 0;
      const std::array<std::string_view, 1> keys{key};
      auto r = co_await async_eval(c, s, keys, {}, &trips);
      EXPECT_TRUE(r && r->integer == 3);
      EXPECT_EQ(trips, node == it->first ? 2u : 1u) << node;
    }
    // SCRIPT LOAD in a pipeline reaches every node the pipeline uses.
    co_await c.async_exec({"SCRIPT", "FLUSH"});
    pipeline p;
    p.add({"SCRIPT", "LOAD", text});
    for (auto& [node, key] : key_of) p.add({"EVALSHA", s.sha, "1", key});
    auto rs = co_await c.async_exec(p);
    CO_ASSERT(rs && rs->size() == 4u);
    EXPECT_EQ((*rs)[0].str, s.sha);
    for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ((*rs)[i].integer, 4) << (*rs)[i].str;
  });
}

TEST_F(RedisCluster, ManualFailoverIsFollowed) {
  client c(io_.get_executor(), options_for(cluster_.url()));
  c.start();
  const std::string key = "fo";
  const int primary = cluster_.primary_of_slot(key_slot(key));
  const int replica = cluster_.replica_of(primary);
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    CO_ASSERT(co_await c.async_exec({"SET", key, "1"}));
  });
  // The fixture forces the failover when Redis's coordinated one times out under load; a
  // forced one does not wait for the replica, so the write must have reached it first.
  ASSERT_TRUE(test::wait_until(
      [&] {
        const auto p = test::info_field(cluster_.cli(primary, "INFO replication"), "master_repl_offset");
        const auto r = test::info_field(cluster_.cli(replica, "INFO replication"), "slave_repl_offset");
        return !p.empty() && p == r;
      },
      10s));
  cluster_.failover(replica);
  ASSERT_EQ(cluster_.primary_of_slot(key_slot(key)), replica);
  run(io_, [&]() -> asio::awaitable<void> {
    // The demoted primary answers MOVED; the map is loaded again.
    auto r = co_await c.async_exec({"INCR", key});
    EXPECT_TRUE(r && r->kind == reply::type::integer && r->integer == 2);
    EXPECT_GE(c.stats().moved, 1u);
    EXPECT_TRUE(co_await eventually([&] { return c.connected(); }, 5s));
  });
  EXPECT_EQ(cluster_.cli(replica, "GET " + key), "2");
}

TEST(RedisClusterKill, KilledPrimaryIsReplacedAndCommandsSucceedAfterwards) {
  redis_cluster cluster(3, 1, /*node_timeout_ms=*/1000);
  asio::io_context io;
  client c(io.get_executor(), options_for(cluster.url()));
  c.start();
  const int victim = cluster.primaries()[0];
  std::vector<std::string> keys;  // keys served by the victim
  const std::vector<int> owners = cluster.slot_owners();
  for (int i = 0; keys.size() < 20; ++i) {
    const std::string k = "kill" + std::to_string(i);
    if (owners[key_slot(k)] == victim) keys.push_back(k);
  }
  run(io, [&]() -> asio::awaitable<void> {
    CO_ASSERT(!co_await c.async_wait_connected(10s));
    for (const auto& k : keys) CO_ASSERT(co_await c.async_exec({"SET", k, "1"}));
  });
  const int replica = cluster.replica_of(victim);
  // Replicated before the crash, so that the promoted replica holds every key.
  ASSERT_EQ(cluster.cli(victim, "WAIT 1 5000"), "1");
  cluster.kill(victim);
  cluster.wait_agreed();
  run(io, [&]() -> asio::awaitable<void> {
    for (const auto& k : keys) {
      auto r = co_await c.async_exec({"INCR", k});
      EXPECT_TRUE(r && r->kind == reply::type::integer && r->integer == 2) << k;
    }
    EXPECT_GE(c.stats().connection_retries + c.stats().moved, 1u);
  });
  for (const auto& k : keys) EXPECT_EQ(cluster.cli(replica, "GET " + k), "2");
}

TEST_F(RedisCluster, SubscriberHearsMessagesPublishedOnAnyNode) {
  subscriber sub(io_.get_executor(), options_for(cluster_.url()));
  std::vector<std::string> got;
  bool subscribed = false;
  sub.subscribe("news");
  sub.on_message([&](std::string_view, std::string_view m) { got.emplace_back(m); });
  sub.on_subscribed([&] { subscribed = true; });
  sub.start();
  run(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT(co_await eventually([&] { return subscribed; }, 10s));
    // Published on the last node; the subscriber sits on the first seed.
    cluster_.cli(cluster_.ports().back(), "PUBLISH news hello");
    EXPECT_TRUE(co_await eventually([&] { return !got.empty(); }, 5s));
  });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "hello");
}

}  // namespace
}  // namespace stopgate::redis
