// redis.url at load time: every form the Redis library accepts loads, every form it refuses
// is an error named "redis.url" with what is wrong; redis.username loads.
#include "config/load.hpp"
#include "redis/url.hpp"
#include "tests/config/config_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopgate::config {
namespace {

using test::k_minimal;
using test::load_bad;
using test::load_ok;
using test::options_with;
using ::testing::HasSubstr;

std::string with_url(const std::string& url) {
  return k_minimal + "[redis]\nurl = \"" + url + "\"\n";
}

TEST(ConfigRedisUrl, AcceptsExactlyWhatTheRedisLibraryParses) {
  const std::vector<std::string> urls{
      "managed", "tcp://h", "tcp://h:1", "redis://h:6379/2", "tcp://:pw@h:1", "tcp://gw:pw@h:1",
      "tcp://gw:p%40ss@[::1]:7000/3", "tcp://h:1?db=2&username=u&password=p", "tcp://h:1/2?db=2",
      "tcp://h:1/", "unix:///run/redis.sock", "unix:///s?db=1&password=x%26y",
      "cluster://h1:7000,h2:7001", "cluster://gw:pw@h1,h2", "cluster://h1:1/0",
      "cluster://h1:1?db=0&password=p", "sentinel://s1,s2:26380/mymaster",
      "sentinel://gw:pw@s1:1/main?db=3&sentinel_username=m&sentinel_password=s", "  tcp://h:1  ",
      // refused
      "", "Managed", "http://h:1", "127.0.0.1:6379", "tcp://", "tcp://:1", "tcp://h:", "tcp://h:0",
      "tcp://h:65536", "tcp://h o:1", "tcp://[::1:1", "tcp://h:1/x", "tcp://h:1/1/2",
      "tcp://h:1?db=-2", "tcp://h:1/1?db=2", "tcp://:p%4@h:1", "tcp://h:1#f", "unix://",
      "unix:///s?timeout=3", "tcp://h:1?sentinel_password=x", "cluster://", "cluster://h1:1,,h2:2",
      "cluster://h1:1,h2:0", "cluster://h1:1/2", "cluster://h1:1?db=2", "cluster://h1:1/x",
      "sentinel://s1:1", "sentinel://s1:1/", "sentinel://s1:1/a/b", "sentinel://s1:1/a%20b",
      "sentinel://s1:1/m?timeout=1", "Cluster://h:1"};
  for (const std::string& url : urls) {
    const bool library = redis::parse_url(url).has_value();
    const load_result r = load_string(with_url(url), "t.toml", options_with());
    EXPECT_EQ(r.has_value(), library)
        << "\"" << url << "\": " << (r ? std::string("loads") : r.error().to_string());
  }
}

TEST(ConfigRedisUrl, ProblemsNameTheKeyAndWhatIsWrong) {
  EXPECT_THAT(load_bad(with_url("sentinel://s1:26379")),
              HasSubstr("redis.url: sentinel:// needs the master name"));
  EXPECT_THAT(load_bad(with_url("cluster://h1:1/2")),
              HasSubstr("redis.url: cluster:// has only db 0"));
  EXPECT_THAT(load_bad(with_url("cluster://h1:1,h2:99999")),
              HasSubstr("redis.url: port must be an integer in 1..65535"));
  EXPECT_THAT(load_bad(with_url("tcp://h:1?timeout=5")),
              HasSubstr("redis.url: query allows only db, username and password"));
  EXPECT_THAT(load_bad(with_url("memcached://h")), HasSubstr("redis.url: must be \"managed\""));
}

TEST(ConfigRedisUrl, SentinelAndAclUserLoad) {
  auto s = load_ok(k_minimal + R"(
[redis]
url = "sentinel://10.0.0.1:26379,10.0.0.2:26379/main"
username = "gateway"
password = "env:REDIS_PW"
)",
                   options_with({{"REDIS_PW", "pw"}}));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->redis.managed());
  EXPECT_EQ(s->redis.url, "sentinel://10.0.0.1:26379,10.0.0.2:26379/main");
  EXPECT_EQ(s->redis.username, "gateway");
  EXPECT_EQ(s->redis.password.reveal(), "pw");
  EXPECT_THAT(load_bad(k_minimal + "[redis]\nusername = 7\n"),
              HasSubstr("redis.username: must be a string"));
}

// Seed nodes of a cluster: the gateway runs on it (its key schema is slot-local), no managed
// redis-server is started.
TEST(ConfigRedisUrl, ClusterSeedsAreAccepted) {
  auto s = load_ok(with_url("cluster://10.0.0.1:7000,10.0.0.2:7000"));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->redis.managed());
  EXPECT_EQ(s->redis.url, "cluster://10.0.0.1:7000,10.0.0.2:7000");
}

// redis.min_replica_acks: "auto" (the default) decides at start; a number is used as is.
TEST(ConfigRedisReplicaAcks, AutoOrANumberOfReplicas) {
  auto dflt = load_ok(k_minimal);
  ASSERT_TRUE(dflt);
  EXPECT_FALSE(dflt->redis.min_replica_acks.has_value());
  EXPECT_EQ(dflt->redis.replica_ack_timeout_ms, 500u);
  auto s = load_ok(k_minimal + "[redis]\nmin_replica_acks = 2\nreplica_ack_timeout_ms = 250\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->redis.min_replica_acks, 2u);
  EXPECT_EQ(s->redis.replica_ack_timeout_ms, 250u);
  auto a = load_ok(k_minimal + "[redis]\nmin_replica_acks = \"auto\"\n");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->redis.min_replica_acks.has_value());
  EXPECT_THAT(load_bad(k_minimal + "[redis]\nmin_replica_acks = \"all\"\n"),
              HasSubstr("redis.min_replica_acks: must be \"auto\" or a number of replicas 0..16"));
  EXPECT_THAT(load_bad(k_minimal + "[redis]\nmin_replica_acks = 17\n"),
              HasSubstr("redis.min_replica_acks"));
  EXPECT_THAT(load_bad(k_minimal + "[redis]\nreplica_ack_timeout_ms = 0\n"),
              HasSubstr("redis.replica_ack_timeout_ms"));
}

}  // namespace
}  // namespace stopgate::config
