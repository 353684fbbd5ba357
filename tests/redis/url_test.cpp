// Pure parts of the Redis client: redis.url parsing, RESP encoding, pipelines, backoff.
#include "redis/url.hpp"
#include "redis/backoff.hpp"
#include "redis/error.hpp"
#include "redis/pipeline.hpp"
#include "redis/resp.hpp"

#include <gtest/gtest.h>

#include <array>

namespace stopgate::redis {
namespace {

using namespace std::chrono_literals;

TEST(RedisUrl, ManagedIsTheDefaultKind) {
  auto ep = parse_url("managed");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->type, endpoint::kind::managed);
  EXPECT_EQ(ep->to_string(), "managed");
}

TEST(RedisUrl, TcpForms) {
  auto a = parse_url("tcp://10.0.0.5:6380");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, endpoint::kind::tcp);
  EXPECT_EQ(a->host, "10.0.0.5");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 0);
  EXPECT_EQ(a->password, "");

  auto b = parse_url("tcp://redis.internal");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "redis.internal");
  EXPECT_EQ(b->port, 6379);

  auto c = parse_url("tcp://:s%40cret@redis:7000/2");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "s@cret");
  EXPECT_EQ(c->host, "redis");
  EXPECT_EQ(c->port, 7000);
  EXPECT_EQ(c->db, 2);

  auto d = parse_url("tcp://127.0.0.1:6379?db=3&password=secret");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->db, 3);
  EXPECT_EQ(d->password, "secret");

  auto e = parse_url("tcp://[::1]:6390/1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6390);
  EXPECT_EQ(e->db, 1);

  auto f = parse_url("redis://h:1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, endpoint::kind::tcp);

  // Same db in path and query is not a conflict.
  EXPECT_TRUE(parse_url("tcp://h:1/2?db=2"));
}

TEST(RedisUrl, UnixForms) {
  auto a = parse_url("unix:///var/run/redis.sock");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, endpoint::kind::unix_socket);
  EXPECT_EQ(a->path, "/var/run/redis.sock");

  auto b = parse_url("unix:///p/r.sock?db=2&password=x%26y");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->path, "/p/r.sock");
  EXPECT_EQ(b->db, 2);
  EXPECT_EQ(b->password, "x&y");
}

TEST(RedisUrl, AclUserAndPassword) {
  auto a = parse_url("tcp://gateway:s%40cret@redis:7000/2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "gateway");
  EXPECT_EQ(a->password, "s@cret");
  EXPECT_EQ(a->host, "redis");
  EXPECT_EQ(a->db, 2);

  auto b = parse_url("unix:///s.sock?username=gw&password=pw");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, "gw");
  EXPECT_EQ(b->password, "pw");

  // Without a user name: the default user, as before.
  auto c = parse_url("redis://:pw@h:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "");
  EXPECT_EQ(c->password, "pw");
}

TEST(RedisUrl, ClusterSeeds) {
  auto a = parse_url("cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, endpoint::kind::cluster);
  ASSERT_EQ(a->nodes.size(), 3u);
  EXPECT_EQ(a->nodes[0], (host_port{"10.0.0.1", 7000}));
  EXPECT_EQ(a->nodes[1], (host_port{"10.0.0.2", 6379}));
  EXPECT_EQ(a->nodes[2], (host_port{"::1", 7002}));
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 7000);
  EXPECT_EQ(a->to_string(), "cluster://10.0.0.1:7000,10.0.0.2:6379,[::1]:7002");

  auto b = parse_url("cluster://gw:pw@h1:1,h2:2?db=0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, "gw");
  EXPECT_EQ(b->password, "pw");
  EXPECT_EQ(b->to_string(), "cluster://h1:1,h2:2");
  EXPECT_TRUE(parse_url("cluster://h1:1/0"));
}

TEST(RedisUrl, SentinelsAndMaster) {
  auto a = parse_url("sentinel://s1,s2:26380/mymaster");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, endpoint::kind::sentinel);
  ASSERT_EQ(a->nodes.size(), 2u);
  EXPECT_EQ(a->nodes[0], (host_port{"s1", 26379}));
  EXPECT_EQ(a->nodes[1], (host_port{"s2", 26380}));
  EXPECT_EQ(a->master_name, "mymaster");
  EXPECT_EQ(a->to_string(), "sentinel://s1:26379,s2:26380/mymaster");

  auto b =
      parse_url("sentinel://gw:pw@s1:1/main?db=3&sentinel_username=mon&sentinel_password=sp%21");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, "gw");
  EXPECT_EQ(b->password, "pw");
  EXPECT_EQ(b->db, 3);
  EXPECT_EQ(b->sentinel_username, "mon");
  EXPECT_EQ(b->sentinel_password, "sp!");
  EXPECT_EQ(b->to_string(), "sentinel://s1:1/main?db=3");
}

TEST(RedisUrl, ToStringNeverShowsThePassword) {
  auto a = parse_url("tcp://:hunter2@h:7000/4");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "tcp://h:7000/4");
  auto b = parse_url("unix:///s.sock?password=hunter2&db=1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->to_string(), "unix:///s.sock?db=1");
  auto c = parse_url("tcp://[::1]:1?password=hunter2");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "tcp://[::1]:1");
}

TEST(RedisUrl, BadFormsNameWhatIsWrong) {
  struct bad {
    const char* url;
    url_errc want;
  };
  const std::array<bad, 33> cases{{
      {"", url_errc::empty},
      {"   ", url_errc::empty},
      {"http://h:1", url_errc::bad_scheme},
      {"Managed", url_errc::bad_scheme},
      {"127.0.0.1:6379", url_errc::bad_scheme},
      {"tcp://", url_errc::missing_host},
      {"tcp://:6379", url_errc::missing_host},
      {"tcp://h:", url_errc::bad_port},
      {"tcp://h:0", url_errc::bad_port},
      {"tcp://h:65536", url_errc::bad_port},
      {"tcp://h:63a", url_errc::bad_port},
      {"tcp://h:-1", url_errc::bad_port},
      {"tcp://h o:1", url_errc::bad_host},
      {"tcp://[::1:1", url_errc::bad_host},
      {"tcp://h:1/x", url_errc::bad_db},
      {"tcp://h:1/1/2", url_errc::bad_path},
      {"tcp://h:1?db=-2", url_errc::bad_db},
      {"tcp://h:1/1?db=2", url_errc::conflicting_db},
      {"tcp://h:1?sentinel_password=x", url_errc::unknown_parameter},
      {"cluster://", url_errc::missing_host},
      {"cluster://h1:1,,h2:2", url_errc::missing_host},
      {"cluster://h1:1,h2:0", url_errc::bad_port},
      {"cluster://h1:1/2", url_errc::cluster_db},
      {"cluster://h1:1?db=2", url_errc::cluster_db},
      {"cluster://h1:1/x", url_errc::bad_path},
      {"sentinel://s1:1", url_errc::missing_master},
      {"sentinel://s1:1/", url_errc::missing_master},
      {"sentinel://s1:1/a/b", url_errc::bad_path},
      {"sentinel://s1:1/m?timeout=1", url_errc::unknown_parameter},
      {"Cluster://h:1", url_errc::bad_scheme},
      {"tcp://:p%4@h:1", url_errc::bad_percent},
      {"unix://", url_errc::missing_path},
      {"unix:///s?timeout=3", url_errc::unknown_parameter},
  }};
  for (const auto& c : cases) {
    auto r = parse_url(c.url);
    ASSERT_FALSE(r) << c.url;
    EXPECT_EQ(r.error(), make_error_code(c.want)) << c.url << ": " << r.error().message();
    EXPECT_FALSE(r.error().message().empty());
  }
}

TEST(RedisResp, EncodesBinarySafeBulkStrings) {
  std::string out;
  const std::string bin("a\0\r\nb", 5);
  const std::array<std::string_view, 3> args{"SET", "k", bin};
  append_command(out, args);
  EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n", 31));
}

TEST(RedisPipeline, KeepsCommandBoundariesAndReuses) {
  pipeline p;
  p.add({"PING"}).add({"GET", "k"});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.command(0), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(p.command(1), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_TRUE(p.valid());
  p.clear();
  EXPECT_EQ(p.size(), 0u);
  p.add({"subscribe", "ch"});
  EXPECT_FALSE(p.valid());
  p.clear();
  p.add(std::span<const std::string_view>{});
  EXPECT_FALSE(p.valid());
}

TEST(RedisBackoff, GrowsWithinBoundsAndJitters) {
  const auto min = 50ms, max = 2000ms;
  EXPECT_EQ(backoff_delay(0, min, max, 0), 50ms);
  EXPECT_EQ(backoff_delay(0, min, max, 50), 100ms);
  EXPECT_EQ(backoff_delay(1, min, max, 0), 100ms);
  EXPECT_EQ(backoff_delay(1, min, max, 100), 200ms);
  // Capped: [max/2, max], also for absurd attempt counts.
  EXPECT_EQ(backoff_delay(10, min, max, 0), 1000ms);
  EXPECT_EQ(backoff_delay(1000, min, max, 1000), 2000ms);
  for (unsigned attempt = 0; attempt < 40; ++attempt) {
    for (std::uint64_t r : {0ULL, 1ULL, 12345ULL, ~0ULL}) {
      const auto d = backoff_delay(attempt, min, max, r);
      EXPECT_GE(d, min);
      EXPECT_LE(d, max);
    }
  }
  // Different draws give different delays: reconnects of many gateways spread out.
  EXPECT_NE(backoff_delay(3, min, max, 7), backoff_delay(3, min, max, 200));
}

TEST(RedisError, CategoryMessages) {
  EXPECT_EQ(make_error_code(errc::timeout).message(), "Redis command timed out");
  EXPECT_STREQ(make_error_code(errc::not_connected).category().name(), "stopgate.redis");
}

}  // namespace
}  // namespace stopgate::redis
