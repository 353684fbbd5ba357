// Pure parts of the cluster client: key slots and hash tags, which argument routes a
// command, reading MOVED / ASK / TRYAGAIN / CLUSTERDOWN and the CLUSTER SHARDS / SLOTS maps.
#include "redis/routing.hpp"
#include "redis/cluster_replies.hpp"
#include "redis/pipeline.hpp"
#include "redis/resp.hpp"
#include "redis/slot.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace stopgate::redis {
namespace {

TEST(RedisSlot, Crc16IsXmodem) {
  // The check value of CRC-16/XMODEM, which the Redis Cluster specification quotes.
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
  // Every length and alignment against the bit-by-bit definition (the table is sliced by 4).
  auto bitwise = [](std::string_view d) {
    std::uint16_t crc = 0;
    for (unsigned char c : d) {
      crc = static_cast<std::uint16_t>(crc ^ (c << 8));
      for (int i = 0; i < 8; ++i)
        crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
  };
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>((i * 131 + 7) % 256);
  for (std::size_t from = 0; from < 5; ++from)
    for (std::size_t len = 0; from + len <= text.size(); len += 7)
      EXPECT_EQ(crc16(std::string_view(text).substr(from, len)), bitwise(std::string_view(text).substr(from, len)))
          << from << " " << len;
}

TEST(RedisSlot, KnownKeySlots) {
  // CLUSTER KEYSLOT answers of Redis 7.0.
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.followers"), 3443);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(RedisSlot, HashTagRules) {
  struct row {
    const char* key;
    const char* hashed;
  };
  const std::array<row, 9> rows{{
      {"{user1000}.following", "user1000"},
      {"foo{}{bar}", "foo{}{bar}"},  // the first '{' is followed by '}' at once: whole key
      {"foo{{bar}}zap", "{bar"},     // between the first '{' and the first '}' after it
      {"foo{bar}{zap}", "bar"},      // only the first tag counts
      {"{}", "{}"},
      {"no tag", "no tag"},
      {"open{only", "open{only"},        // no '}' after the '{'
      {"close}{first", "close}{first"},  // a '}' before the '{' does not close it
      {"a{b}c", "b"},
  }};
  for (const auto& r : rows) {
    EXPECT_EQ(hash_tag(r.key), r.hashed) << r.key;
    EXPECT_EQ(key_slot(r.key), crc16(r.hashed) % 16384) << r.key;
  }
}

route route_for(std::initializer_list<std::string_view> args, key_index key = key_by_rule) {
  return route_of(std::span<const std::string_view>(args.begin(), args.size()), key);
}

TEST(RedisRouting, KeyArgumentByRule) {
  struct row {
    std::vector<std::string_view> args;
    route::kind kind;
    std::size_t key;
  };
  const std::vector<row> rows{
      {{"GET", "k"}, route::kind::keyed, 1},
      {{"set", "k", "v"}, route::kind::keyed, 1},
      {{"HSET", "h", "f", "v"}, route::kind::keyed, 1},
      {{"EVALSHA", "abc", "2", "k1", "k2", "a"}, route::kind::keyed, 3},
      {{"eval", "return 1", "0", "a"}, route::kind::any_node, 0},
      {{"FCALL", "f", "1", "k"}, route::kind::keyed, 3},
      {{"ZUNIONSTORE", "dst", "2", "a", "b"}, route::kind::keyed, 1},
      {{"ZUNION", "2", "a", "b"}, route::kind::keyed, 2},
      {{"SINTERCARD", "2", "a", "b"}, route::kind::keyed, 2},
      {{"BLMPOP", "0", "1", "l", "LEFT"}, route::kind::keyed, 3},
      {{"XREAD", "COUNT", "2", "STREAMS", "s", "0"}, route::kind::keyed, 4},
      {{"BITOP", "AND", "dst", "a"}, route::kind::keyed, 2},
      {{"MEMORY", "USAGE", "k"}, route::kind::keyed, 2},
      {{"MEMORY", "STATS"}, route::kind::any_node, 0},
      {{"OBJECT", "ENCODING", "k"}, route::kind::keyed, 2},
      {{"PING"}, route::kind::any_node, 0},
      {{"publish", "ch", "m"}, route::kind::any_node, 0},
      {{"WAIT", "1", "100"}, route::kind::any_node, 0},
      {{"INFO", "replication"}, route::kind::any_node, 0},
      {{"SCRIPT", "EXISTS", "abc"}, route::kind::any_node, 0},
      {{"SCRIPT", "LOAD", "return 1"}, route::kind::all_primaries, 0},
      {{"FLUSHALL"}, route::kind::all_primaries, 0},
      {{"MULTI"}, route::kind::multi_begin, 0},
      {{"exec"}, route::kind::multi_end, 0},
      {{"DISCARD"}, route::kind::multi_end, 0},
      {{"DBSIZE"}, route::kind::any_node, 0},
  };
  for (const auto& r : rows) {
    const route got = route_of(r.args);
    EXPECT_EQ(got.type, r.kind) << r.args[0];
    if (r.kind == route::kind::keyed) {
      EXPECT_EQ(got.key, r.key) << r.args[0];
    }
  }
}

TEST(RedisRouting, ExplicitKeyAndConnectionStateCommands) {
  EXPECT_EQ(route_for({"CUSTOM.CMD", "opt", "k"}, 2).type, route::kind::keyed);
  EXPECT_EQ(route_for({"CUSTOM.CMD", "opt", "k"}, 2).key, 2u);
  EXPECT_EQ(route_for({"GET", "k"}, no_key).type, route::kind::any_node);
  EXPECT_EQ(route_for({"GET", "k"}, 2).type, route::kind::invalid);
  EXPECT_TRUE(route_for({"WATCH", "k"}).connection_state);
  EXPECT_EQ(route_for({"WATCH", "k"}).type, route::kind::keyed);
  EXPECT_TRUE(route_for({"UNWATCH"}).connection_state);
  EXPECT_TRUE(route_for({"MULTI"}).connection_state);
  EXPECT_FALSE(route_for({"GET", "k"}).connection_state);
}

// Routes of a pipeline by letter: k = keyed (slot = the digit after it), a = any node,
// m = MULTI, e = EXEC, b = every node.
std::vector<command_unit> plan(std::string_view code) {
  std::vector<route> routes;
  std::vector<int> slots;
  for (std::size_t i = 0; i < code.size(); ++i) {
    route r;
    int slot = any_slot;
    switch (code[i]) {
      case 'k':
        r.type = route::kind::keyed;
        slot = code[++i] - '0';
        break;
      case 'a':
        r.type = route::kind::any_node;
        break;
      case 'm':
        r.type = route::kind::multi_begin;
        break;
      case 'e':
        r.type = route::kind::multi_end;
        break;
      case 'b':
        r.type = route::kind::all_primaries;
        break;
    }
    routes.push_back(r);
    slots.push_back(slot);
  }
  return plan_units(routes, slots);
}

TEST(RedisRouting, PipelineUnits) {
  using units = std::vector<command_unit>;
  // Keyed commands are units of their own.
  EXPECT_EQ(plan("k1k2k1"), (units{{0, 1, 1}, {1, 1, 2}, {2, 1, 1}}));
  // WAIT (keyless) rides with the write before it.
  EXPECT_EQ(plan("k1ak2"), (units{{0, 2, 1}, {2, 1, 2}}));
  // Keyless commands at the start ride with the first keyed one.
  EXPECT_EQ(plan("aak3"), (units{{0, 3, 3}}));
  // A transaction is one unit, routed by its first keyed command, with what follows it.
  EXPECT_EQ(plan("k1mk2k2eak1"), (units{{0, 1, 1}, {1, 5, 2}, {6, 1, 1}}));
  EXPECT_EQ(plan("amk4e"), (units{{0, 4, 4}}));
  // An unfinished transaction runs to the end.
  EXPECT_EQ(plan("mk5k5"), (units{{0, 3, 5}}));
  // SCRIPT LOAD / FLUSHALL go to every node; keyless commands do not ride with them.
  EXPECT_EQ(plan("bk1k2"), (units{{0, 1, every_node}, {1, 1, 1}, {2, 1, 2}}));
  EXPECT_EQ(plan("k1bak2"), (units{{0, 1, 1}, {1, 1, every_node}, {2, 2, 2}}));
  EXPECT_EQ(plan("k1ba"), (units{{0, 1, 1}, {1, 1, every_node}, {2, 1, any_slot}}));
  // Nothing keyed: one unit for any node.
  EXPECT_EQ(plan("aa"), (units{{0, 2, any_slot}}));
  EXPECT_EQ(plan(""), units{});
}

TEST(RedisRouting, SplitsFormattedCommandsBack) {
  pipeline p;
  const std::string bin("a\0\r\nb", 5);
  p.add({"SET", "k", bin}).add({"PING"}).add({"GET", "k"}, 1);
  std::vector<std::string_view> args;
  ASSERT_TRUE(split_command(p.command(0), args));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2], bin);
  ASSERT_TRUE(split_command(p.command(1), args));
  EXPECT_EQ(args, (std::vector<std::string_view>{"PING"}));
  EXPECT_EQ(p.key(2), 1u);
  EXPECT_EQ(p.key(0), key_by_rule);
  EXPECT_FALSE(split_command("*2\r\n$3\r\nGET\r\n", args));
  EXPECT_FALSE(split_command("$3\r\nGET\r\n", args));
  EXPECT_FALSE(split_command("*1\r\n$9\r\nGET\r\n", args));
  // A key index past the last argument makes the pipeline refuse to run.
  p.add({"GET", "k"}, 5);
  EXPECT_FALSE(p.valid());
}

reply text(std::string s) {
  reply r;
  r.kind = reply::type::string;
  r.str = std::move(s);
  return r;
}
reply integer(std::int64_t v) {
  reply r;
  r.kind = reply::type::integer;
  r.integer = v;
  return r;
}
reply error(std::string s) {
  reply r;
  r.kind = reply::type::error;
  r.str = std::move(s);
  return r;
}
reply array(std::vector<reply> e) {
  reply r;
  r.kind = reply::type::array;
  r.elements = std::move(e);
  return r;
}

TEST(RedisClusterReplies, Redirects) {
  auto moved = parse_redirect(error("MOVED 3999 127.0.0.1:6381"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->type, redirect::kind::moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->host, "127.0.0.1");
  EXPECT_EQ(moved->port, 6381);

  auto ask = parse_redirect(error("ASK 12182 [::1]:7002"));
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->type, redirect::kind::ask);
  EXPECT_EQ(ask->host, "::1");
  EXPECT_EQ(ask->port, 7002);

  // A node that does not know its own address leaves the host out.
  auto bare = parse_redirect(error("MOVED 1 :7000"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "");
  EXPECT_EQ(bare->port, 7000);

  EXPECT_FALSE(parse_redirect(text("MOVED 1 h:1")));  // not an error reply
  EXPECT_FALSE(parse_redirect(error("MOVED 16384 h:1")));
  EXPECT_FALSE(parse_redirect(error("MOVED 1 h")));
  EXPECT_FALSE(parse_redirect(error("ERR MOVED 1 h:1")));
  EXPECT_TRUE(is_tryagain(error("TRYAGAIN Multiple keys request during rehashing of slot")));
  EXPECT_TRUE(is_clusterdown(error("CLUSTERDOWN The cluster is down")));
  EXPECT_FALSE(is_clusterdown(text("CLUSTERDOWN")));
}

// One node of a CLUSTER SHARDS reply, RESP2 style (a flat name, value list).
reply shard_node(std::string ip, std::string endpoint, int port, std::string role,
                 std::string health) {
  return array({text("id"), text("0123"), text("port"), integer(port), text("ip"), text(ip),
                text("endpoint"), text(endpoint), text("role"), text(role),
                text("replication-offset"), integer(0), text("health"), text(health)});
}

TEST(RedisClusterReplies, ShardsGiveEachRangeItsPrimary) {
  const reply r = array({
      array({text("slots"), array({integer(0), integer(5460), integer(10923), integer(10999)}),
             text("nodes"),
             array({shard_node("10.0.0.2", "10.0.0.2", 7003, "replica", "online"),
                    shard_node("10.0.0.1", "redis-a", 7000, "master", "online")})}),
      // A primary that does not know its endpoint: the node that answered stands for it.
      array({text("slots"), array({integer(5461), integer(10922)}), text("nodes"),
             array({shard_node("", "?", 7001, "master", "online")})}),
      // A shard without slots adds nothing.
      array({text("slots"), array({}), text("nodes"),
             array({shard_node("10.0.0.9", "10.0.0.9", 7009, "master", "online")})}),
  });
  auto map = parse_cluster_shards(r, "seed");
  ASSERT_TRUE(map);
  const std::vector<slot_range> want{
      {0, 5460, "redis-a", 7000}, {10923, 10999, "redis-a", 7000}, {5461, 10922, "seed", 7001}};
  EXPECT_EQ(*map, want);

  // Two primaries in one shard (a stale view during a failover): the one online.
  const reply stale =
      array({array({text("slots"), array({integer(0), integer(1)}), text("nodes"),
                    array({shard_node("10.0.0.1", "10.0.0.1", 7000, "master", "failed"),
                           shard_node("10.0.0.2", "10.0.0.2", 7003, "master", "online")})})});
  auto s = parse_cluster_shards(stale, "seed");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].port, 7003);

  EXPECT_FALSE(parse_cluster_shards(error("ERR unknown subcommand 'SHARDS'"), "seed"));
  EXPECT_FALSE(parse_cluster_shards(
      array({array({text("slots"), array({integer(1)}), text("nodes"), array({})})}), "seed"));
}

TEST(RedisClusterReplies, SlotsGiveEachRangeItsPrimary) {
  const reply r = array({
      array({integer(0), integer(5460), array({text("10.0.0.1"), integer(7000), text("id1")}),
             array({text("10.0.0.2"), integer(7003), text("id4")})}),
      array({integer(5461), integer(16383), array({text(""), integer(7001), text("id2")})}),
  });
  auto map = parse_cluster_slots(r, "seed");
  ASSERT_TRUE(map);
  const std::vector<slot_range> want{{0, 5460, "10.0.0.1", 7000}, {5461, 16383, "seed", 7001}};
  EXPECT_EQ(*map, want);
  EXPECT_FALSE(parse_cluster_slots(
      array({array({integer(0), integer(20000), array({text("h"), integer(1)})})}), "seed"));
}

}  // namespace
}  // namespace stopgate::redis
