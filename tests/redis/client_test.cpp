// The Redis client and subscriber against a real redis-server (tests/support/redis_server).
#include "redis/client.hpp"
#include "redis/script.hpp"
#include "tests/redis/coro_test_support.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>

namespace stopgate::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using test::redis_server;

using test_support::eventually;
using test_support::run;

client_options options_for(const std::string& url) {
  client_options o;
  o.ep = parse_url(url).value();
  o.reconnect_min = 10ms;
  o.reconnect_max = 100ms;
  return o;
}

class RedisClient : public ::testing::Test {
 protected:
  redis_server server_;
  asio::io_context io_;
};

TEST_F(RedisClient, ExecReturnsEachReplyType) {
  client c(io_.get_executor(), options_for(server_.unix_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    EXPECT_TRUE(c.connected());

    auto set = co_await c.async_exec({"SET", "greeting", "hello"});
    EXPECT_TRUE(set && set->kind == reply::type::status && set->str == "OK");

    auto get = co_await c.async_exec({"GET", "greeting"});
    EXPECT_TRUE(get && get->kind == reply::type::string && get->str == "hello");

    auto missing = co_await c.async_exec({"GET", "nothing-here"});
    EXPECT_TRUE(missing && missing->is_nil());

    auto incr = co_await c.async_exec({"INCRBY", "n", "41"});
    EXPECT_TRUE(incr && incr->kind == reply::type::integer && incr->integer == 41);

    co_await c.async_exec({"RPUSH", "l", "a", "b"});
    auto list = co_await c.async_exec({"LRANGE", "l", "0", "-1"});
    CO_ASSERT(list && list->kind == reply::type::array);
    CO_ASSERT(list->elements.size() == 2u);
    EXPECT_EQ(list->elements[1].str, "b");

    // A Redis error is a reply, not a failure.
    auto err = co_await c.async_exec({"INCR", "greeting"});
    CO_ASSERT(err);
    EXPECT_TRUE(err->is_error());
    EXPECT_EQ(err->str.rfind("ERR", 0), 0u) << err->str;
  });
}

TEST_F(RedisClient, ScriptsRunBySha1AndAreSentAgainWhenRedisForgotThem) {
  static constexpr std::string_view text =
      "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])";
  const script s(text);
  EXPECT_EQ(s.sha, server_.cli("SCRIPT LOAD \"" + std::string(text) + "\""));
  server_.cli("SCRIPT FLUSH");
  client c(io_.get_executor(), options_for(server_.unix_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    const std::string_view keys[] = {"k", "n"}, args[] = {"v"};
    std::uint64_t trips = 0;
    // Unknown to this Redis: EVALSHA is refused, EVAL runs it (once) and caches it.
    auto first = co_await async_eval(c, s, keys, args, &trips);
    CO_ASSERT(first);
    EXPECT_EQ(first->integer, 1);
    EXPECT_EQ(trips, 2u);
    auto second = co_await async_eval(c, s, keys, args, &trips);
    CO_ASSERT(second);
    EXPECT_EQ(second->integer, 2);
    EXPECT_EQ(trips, 3u);
    // A script error is a reply for the caller to name, and not NOSCRIPT.
    const script bad("return redis.call('INCR', KEYS[1])");
    const std::string_view bad_keys[] = {"k"};
    auto err = co_await async_eval(c, bad, bad_keys, {});
    CO_ASSERT(err);
    EXPECT_TRUE(err->is_error());
    EXPECT_FALSE(is_noscript(*err));
  });
  EXPECT_EQ(server_.cli("GET k"), "v");
}

TEST_F(RedisClient, BinaryValuesUpToABitmapRoundTrip) {
  client c(io_.get_executor(), options_for(server_.tcp_url()));
  c.start();
  std::string bitmap(1'250'000, '\0');  // one area code's bitmap: 10^7 bits
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < bitmap.size(); i += 7) bitmap[i] = char(rng());
  bitmap[100] = '\r';
  bitmap[101] = '\n';
  const std::string key("bm:\0:415", 8);
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    auto set = co_await c.async_exec({"SET", key, bitmap});
    EXPECT_TRUE(set && set->str == "OK");
    auto len = co_await c.async_exec({"STRLEN", key});
    EXPECT_TRUE(len && len->integer == 1'250'000);
    auto get = co_await c.async_exec({"GET", key});
    CO_ASSERT(get);
    EXPECT_EQ(get->str.size(), bitmap.size());
    EXPECT_TRUE(get->str == bitmap);
    auto bit = co_await c.async_exec({"GETBIT", key, "800"});  // byte 100 = '\r' = 00001101
    EXPECT_TRUE(bit && bit->integer == 0);
    auto bit2 = co_await c.async_exec({"GETBIT", key, "804"});
    EXPECT_TRUE(bit2 && bit2->integer == 1);
  });
}

TEST_F(RedisClient, PipelineOfTenThousandRepliesInOrder) {
  client c(io_.get_executor(), options_for(server_.unix_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    pipeline p;
    for (int i = 0; i < 10'000; ++i) p.add({"INCR", "counter"});
    p.add({"GET", "counter"});
    p.add({"HGET", "no-such-hash", "f"});
    auto r = co_await c.async_exec(p);
    CO_ASSERT(r);
    CO_ASSERT(r->size() == 10'002u);
    bool in_order = true;
    for (int i = 0; i < 10'000; ++i) in_order = in_order && (*r)[i].integer == i + 1;
    EXPECT_TRUE(in_order);
    EXPECT_EQ((*r)[10'000].str, "10000");
    EXPECT_TRUE((*r)[10'001].is_nil());

    // A reused pipeline gives fresh replies; an empty one completes at once.
    p.clear();
    p.add({"GET", "counter"});
    auto again = co_await c.async_exec(p);
    CO_ASSERT(again && again->size() == 1);
    EXPECT_EQ(again->front().str, "10000");
    p.clear();
    auto empty = co_await c.async_exec(p);
    EXPECT_TRUE(empty && empty->empty());
  });
}

TEST_F(RedisClient, PipelinedMembershipThroughput) {
  auto opts = options_for(server_.unix_url());
  opts.command_timeout = 2s;
  client c(io_.get_executor(), opts);
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    pipeline fill;
    for (int i = 0; i < 1000; i += 2)
      fill.add({"SADD", "optouts", std::to_string(14155550000 + i)});
    EXPECT_TRUE(co_await c.async_exec(fill));

    constexpr int total = 100'000, depth = 1'000;
    std::vector<std::string> members;
    for (int i = 0; i < depth; ++i) members.push_back(std::to_string(14155550000 + i));
    pipeline p;
    long hits = 0;
    const auto t0 = clock_type::now();
    for (int batch = 0; batch < total / depth; ++batch) {
      p.clear();
      for (const auto& m : members) p.add({"SISMEMBER", "optouts", m});
      auto r = co_await c.async_exec(p);
      if (!r) {
        ADD_FAILURE() << r.error().message();
        co_return;
      }
      for (const auto& x : *r) hits += x.integer;
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    EXPECT_EQ(hits, long(total / 2));
    std::printf("[ perf     ] %d SISMEMBER in pipelines of %d: %.3f s, %.0f commands/s\n", total,
                depth, secs, total / secs);
    RecordProperty("sismember_per_second", int(total / secs));
  });
}

TEST_F(RedisClient, ConcurrentCoroutinesGetTheirOwnReplies) {
  client c(io_.get_executor(), options_for(server_.unix_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    int finished = 0, wrong = 0;
    for (int w = 0; w < 50; ++w) {
      asio::co_spawn(
          io_,
          [&, w]() -> asio::awaitable<void> {
            for (int i = 0; i < 20; ++i) {
              const std::string key = "w" + std::to_string(w), value = std::to_string(i);
              auto set = co_await c.async_exec({"SET", key, value});
              auto get = co_await c.async_exec({"GET", key});
              if (!set || !get || get->str != value) ++wrong;
            }
            ++finished;
          },
          asio::detached);
    }
    EXPECT_TRUE(co_await eventually([&] { return finished == 50; }, 5s));
    EXPECT_EQ(wrong, 0);
  });
}

TEST_F(RedisClient, RefusesCommandsThatWouldBreakReplyOrder) {
  client c(io_.get_executor(), options_for(server_.unix_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    auto empty = co_await c.async_exec(std::span<const std::string_view>{});
    EXPECT_EQ(empty.error(), make_error_code(errc::bad_command));
    auto sub = co_await c.async_exec({"subscribe", "x"});
    EXPECT_EQ(sub.error(), make_error_code(errc::bad_command));
    pipeline p;
    p.add({"PING"}).add({"MONITOR"});
    auto r = co_await c.async_exec(p);
    EXPECT_EQ(r.error(), make_error_code(errc::bad_command));
    // The connection is still fine.
    auto ping = co_await c.async_exec({"PING"});
    EXPECT_TRUE(ping && ping->str == "PONG");
  });
}

TEST_F(RedisClient, FailsFastWhenNotConnected) {
  // Nothing listens on this port.
  client c(io_.get_executor(), options_for("tcp://127.0.0.1:" + std::to_string(test::free_port())));
  run(io_, [&]() -> asio::awaitable<void> {
    auto before = co_await c.async_exec({"PING"});
    EXPECT_EQ(before.error(), make_error_code(errc::not_connected));
    c.start();
    const auto t0 = clock_type::now();
    auto r = co_await c.async_exec({"PING"});
    EXPECT_EQ(r.error(), make_error_code(errc::not_connected));
    EXPECT_LT(clock_type::now() - t0, 50ms);  // no waiting for a deadline
    EXPECT_EQ(co_await c.async_wait_connected(150ms), make_error_code(errc::timeout));
    EXPECT_FALSE(c.connected());
    c.stop();
    auto after = co_await c.async_exec({"PING"});
    EXPECT_EQ(after.error(), make_error_code(errc::stopped));
  });
}

TEST_F(RedisClient, TimesOutOnAPausedServerAndRecovers) {
  auto opts = options_for(server_.tcp_url());
  opts.command_timeout = 100ms;
  client c(io_.get_executor(), opts);
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    EXPECT_TRUE(co_await c.async_exec({"SET", "k", "v"}));
    server_.pause();

    const auto t0 = clock_type::now();
    auto r = co_await c.async_exec({"GET", "k"});
    const auto waited = clock_type::now() - t0;
    EXPECT_EQ(r.error(), make_error_code(errc::timeout));
    EXPECT_GE(waited, 100ms);
    EXPECT_LT(waited, 600ms);

    pipeline p;
    for (int i = 0; i < 100; ++i) p.add({"INCR", "n"});
    auto pr = co_await c.async_exec(p);
    EXPECT_EQ(pr.error(), make_error_code(errc::timeout));

    server_.resume();
    // The late replies of the timed-out commands are dropped; this reply is ours.
    auto echo = co_await c.async_exec({"ECHO", "fresh"});
    CO_ASSERT(echo);
    EXPECT_EQ(echo->str, "fresh");
    auto n = co_await c.async_exec({"GET", "n"});
    EXPECT_TRUE(n && n->str == "100");  // the timed-out pipeline did run
    EXPECT_TRUE(c.connected());
  });
}

TEST_F(RedisClient, ReconnectsByItselfAfterServerRestart) {
  client c(io_.get_executor(), options_for(server_.tcp_url()));
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    server_.stop();
    auto r = co_await c.async_exec({"PING"});
    CO_ASSERT(!(r));
    EXPECT_TRUE(r.error() == make_error_code(errc::not_connected) ||
                r.error() == make_error_code(errc::connection_lost))
        << r.error().message();
    EXPECT_TRUE(co_await eventually([&] { return !c.connected(); }, 2s));
    auto down = co_await c.async_exec({"PING"});
    EXPECT_EQ(down.error(), make_error_code(errc::not_connected));

    server_.start();
    EXPECT_FALSE(co_await c.async_wait_connected(5s));
    auto ping = co_await c.async_exec({"PING"});
    EXPECT_TRUE(ping && ping->str == "PONG");
  });
}

TEST_F(RedisClient, StopCompletesPendingCommandsWithStopped) {
  auto opts = options_for(server_.unix_url());
  opts.command_timeout = 5s;
  client c(io_.get_executor(), opts);
  c.start();
  run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c.async_wait_connected(2s));
    server_.pause();
    bool finished = false;
    boost::system::error_code got;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          auto r = co_await c.async_exec({"PING"});
          got = r ? boost::system::error_code{} : r.error();
          finished = true;
        },
        asio::detached);
    co_await asio::post(io_, asio::use_awaitable);  // let it send
    c.stop();
    EXPECT_TRUE(co_await eventually([&] { return finished; }, 1s));
    EXPECT_EQ(got, make_error_code(errc::stopped));
    server_.resume();
  });
}

TEST(RedisClientAuth, PasswordAndDbFromTheUrl) {
  redis_server server;
  server.cli("CONFIG SET requirepass s3cret");
  asio::io_context io;
  const std::string sock = server.unix_socket();
  client in_db2(io.get_executor(),
                options_for("tcp://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/2"));
  client in_db0(io.get_executor(), options_for("unix://" + sock + "?password=s3cret"));
  client query_db2(io.get_executor(), options_for("unix://" + sock + "?db=2&password=s3cret"));
  client wrong(io.get_executor(), options_for("unix://" + sock + "?password=nope"));
  for (auto* c : {&in_db2, &in_db0, &query_db2, &wrong}) c->start();
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await in_db2.async_wait_connected(2s));
    EXPECT_FALSE(co_await in_db0.async_wait_connected(2s));
    EXPECT_FALSE(co_await query_db2.async_wait_connected(2s));
    EXPECT_TRUE(co_await in_db2.async_exec({"SET", "where", "db2"}));
    auto from0 = co_await in_db0.async_exec({"GET", "where"});
    EXPECT_TRUE(from0 && from0->is_nil());
    auto from2 = co_await query_db2.async_exec({"GET", "where"});
    EXPECT_TRUE(from2 && from2->str == "db2");

    // A rejected AUTH never counts as connected: commands fail fast.
    EXPECT_EQ(co_await wrong.async_wait_connected(300ms), make_error_code(errc::timeout));
    auto r = co_await wrong.async_exec({"PING"});
    EXPECT_EQ(r.error(), make_error_code(errc::not_connected));
  });
}

TEST(RedisClientAuth, AclUserFromTheUrl) {
  redis_server server;
  // A user that may read and write keys of "gw:" only; the default user stays as it is.
  ASSERT_EQ(server.cli("ACL SETUSER gw on '>pw 1' '~gw:*' +@all"), "OK");
  asio::io_context io;
  const std::string port = std::to_string(server.port());
  client gw(io.get_executor(), options_for("tcp://gw:pw%201@127.0.0.1:" + port));
  client query(io.get_executor(),
               options_for("unix://" + server.unix_socket() + "?username=gw&password=pw%201"));
  client wrong(io.get_executor(), options_for("tcp://gw:nope@127.0.0.1:" + port));
  for (auto* c : {&gw, &query, &wrong}) c->start();
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await gw.async_wait_connected(2s));
    EXPECT_FALSE(co_await query.async_wait_connected(2s));
    auto who = co_await gw.async_exec({"ACL", "WHOAMI"});
    EXPECT_TRUE(who && who->str == "gw");
    auto who2 = co_await query.async_exec({"ACL", "WHOAMI"});
    EXPECT_TRUE(who2 && who2->str == "gw");
    // The user's key pattern applies: AUTH was "AUTH gw <password>", not the default user.
    auto denied = co_await gw.async_exec({"SET", "other", "x"});
    EXPECT_TRUE(denied && denied->is_error() && denied->str.starts_with("NOPERM")) << denied->str;
    EXPECT_EQ(co_await wrong.async_wait_connected(300ms), make_error_code(errc::timeout));
  });
}

TEST(RedisSubscriber, ReceivesMessagesAndResubscribesAfterRestart) {
  redis_server server;
  asio::io_context io;
  client pub(io.get_executor(), options_for(server.tcp_url()));
  subscriber sub(io.get_executor(), options_for(server.unix_url()));
  std::vector<std::pair<std::string, std::string>> got;
  int subscribed = 0;
  sub.subscribe("lists");
  sub.on_message([&](std::string_view ch, std::string_view msg) { got.emplace_back(ch, msg); });
  sub.on_subscribed([&] { ++subscribed; });
  pub.start();
  sub.start();
  const std::string payload("gen\0 42", 7);
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await eventually([&] { return subscribed == 1; }, 2s));
    EXPECT_FALSE(co_await pub.async_wait_connected(2s));
    auto n = co_await pub.async_exec({"PUBLISH", "lists", payload});
    EXPECT_TRUE(n && n->integer == 1);
    EXPECT_TRUE(co_await eventually([&] { return got.size() == 1; }, 2s));
    if (got.size() == 1) {
      EXPECT_EQ(got[0], std::make_pair(std::string("lists"), payload));
    }

    // A channel added later is subscribed on the live connection.
    sub.subscribe("optouts");
    EXPECT_TRUE(co_await eventually([&] { return subscribed == 2; }, 2s));
    EXPECT_TRUE(co_await pub.async_exec({"PUBLISH", "optouts", "x"}));
    EXPECT_TRUE(co_await eventually([&] { return got.size() == 2; }, 2s));

    server.stop();
    server.start();
    // After the restart: resubscribed to both, and told so.
    EXPECT_TRUE(co_await eventually([&] { return subscribed == 3; }, 5s));
    EXPECT_FALSE(co_await pub.async_wait_connected(5s));
    auto both = co_await pub.async_exec({"PUBSUB", "NUMSUB", "lists", "optouts"});
    CO_ASSERT(both && both->elements.size() == 4);
    EXPECT_EQ(both->elements[1].integer, 1);
    EXPECT_EQ(both->elements[3].integer, 1);
    EXPECT_TRUE(co_await pub.async_exec({"PUBLISH", "lists", "after"}));
    EXPECT_TRUE(co_await eventually([&] { return got.size() == 3; }, 2s));
    if (got.size() == 3) {
      EXPECT_EQ(got[2].second, "after");
    }
    sub.stop();
  });
}

}  // namespace
}  // namespace stopgate::redis
