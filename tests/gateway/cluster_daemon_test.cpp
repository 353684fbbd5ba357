// The stopgate daemon on a real Redis Cluster (redis.url = cluster://...): the socket API,
// STOP webhooks and their confirmations, stopgatectl's list loads, a resharding under check
// load and a primary killed during a STOP storm. docs/REDIS.md, "Redis Cluster and the gateway".
#include "dnc/contacts/keys.hpp"
#include "gateway/contact_secret.hpp"
#include "redis/slot.hpp"
#include "tests/gateway/daemon_support.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

namespace stopgate::test {
namespace {

using namespace gwtest;  // NOLINT: the daemon tests' shared helpers

const std::string acme_number = "+14155552000";

// Consumers spread over the slots: +1312555NNNN.
std::string consumer(int i) { return "+1312555" + std::to_string(3000 + i); }

bool denied_for_optout(line_client& c, const std::string& to) {
  auto r = check(c, to, "acme", noon + R"(,"purpose":"informational")");
  if (r["ok"] != true) return false;
  auto rs = reasons(r);
  return std::find(rs.begin(), rs.end(), "optout") != rs.end();
}

std::vector<std::string> outbox_lines(const temp_dir& d, const std::string& instance) {
  std::vector<std::string> out;
  std::ifstream in(d.path() / instance / "outbox.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The slot of a number's contact keys, with the pseudonym secret the gateway stored.
int slot_of_number(const redis_cluster& cl, const std::string& e164) {
  const std::string key(gateway::contact_secret_key);
  const std::string secret = cl.cli(cl.primary_of_slot(redis::key_slot(key)), "GET " + key);
  auto p = dnc::contacts::contact_keys::pseudonymizer::create(secret);
  if (!p) return -1;
  return redis::key_slot(p->tag(*dnc::model::parse_phone(e164)));
}

// Everything a campaign and a carrier do through one gateway works on a 3-primary cluster with
// a replica each: opt-out, consent, checks single and batched, STOP webhooks from numbers on
// every shard with one confirmation each (the per-slot reply queues), a carrier's redelivery
// applied once, and a list loaded by stopgatectl through the same config.
TEST(ClusterDaemon, ChecksConsentsStopsAndListLoadsWorkOnACluster) {
  redis_cluster cl(3, 1);
  temp_dir d;
  gateway_proc gw(d, cl.url(), "gwX", "[lists.federal]\nkind = \"registry\"\nexempt_with_consent = false\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  auto o = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+12125552671"}, {"sender", "acme"}}, 400);
  ASSERT_EQ(o["ok"], true) << json::serialize(o) << gw.proc->output();
  EXPECT_NE(gw.proc->output().find("wait for 1 replica ack(s)"), std::string::npos) << gw.proc->output();
  EXPECT_TRUE(denied_for_optout(c, "+12125552671"));
  auto cons = c.call(json::parse(R"({"op":"consent","to":"+16175552671","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  auto lk = c.call(json::object{{"op", "lookup"}, {"to", "+16175552671"}});
  EXPECT_EQ(lk["consents"].as_array().size(), 1u) << json::serialize(lk);

  // 40 STOPs from numbers on every shard: each 200, each an opt-out at once.
  std::set<int> shards;
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(post_inbound(gw.http_port, "sb-" + std::to_string(i), consumer(i), acme_number, "STOP"), 200)
        << i << gw.proc->output();
    EXPECT_TRUE(denied_for_optout(c, consumer(i))) << consumer(i);
    shards.insert(cl.primary_of_slot(slot_of_number(cl, consumer(i))));
  }
  EXPECT_EQ(shards.size(), 3u);
  // A redelivery of one of them changes nothing and is not confirmed again.
  EXPECT_EQ(post_inbound(gw.http_port, "sb-0", consumer(0), acme_number, "STOP"), 200);
  // Each confirmed exactly once, from the slot queues.
  std::vector<std::string> lines;
  for (int i = 0; i < 1000 && lines.size() < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lines = outbox_lines(d, "gwX");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  lines = outbox_lines(d, "gwX");
  std::multiset<std::string> to;
  for (auto& l : lines) to.insert(std::string(json::parse(l).at("to").as_string()));
  ASSERT_EQ(lines.size(), 40u) << gw.proc->output();
  for (int i = 0; i < 40; ++i) EXPECT_EQ(to.count(consumer(i)), 1u) << consumer(i);

  // A registry loaded by stopgatectl with the gateway's config lands on the cluster, and the
  // gateway answers from it.
  auto file = d.write("federal.txt", "6175552671\n");
  auto [code, out] = run_program({built_program("tools/stopgatectl/stopgatectl"), "--config", gw.config.string(), "dnc",
                                  "load", "--list", "federal", "--format", "ftc", "--snapshot", "2026-12-01",
                                  file.string()});
  ASSERT_EQ(code, 0) << out;
  // Announced on pub/sub (the mirror also polls every 5 s): within a few seconds.
  std::vector<std::string> rs;
  json::object listed;
  for (int i = 0; i < 400; ++i) {
    listed = check(c, "+16175552671", "acme", noon);
    rs = reasons(listed);
    if (std::find(rs.begin(), rs.end(), "federal_dnc") != rs.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(std::find(rs.begin(), rs.end(), "federal_dnc"), rs.end())
      << json::serialize(listed) << "\n" << out << "\n" << gw.proc->output();
  auto batch = c.call(json::parse(R"({"op":"check","sender":"acme","purpose":"informational","to":["+12125552671","+16175552672","+13125553000"])" + noon + "}").as_object());
  ASSERT_EQ(batch["ok"], true) << json::serialize(batch);
  auto& results = batch["results"].as_array();
  EXPECT_EQ(results[0].at("decision"), "deny");
  EXPECT_EQ(results[1].at("decision"), "allow");
  EXPECT_EQ(results[2].at("decision"), "deny");
}

// The durable outbound queue on a cluster: its shards live in several slots on every primary,
// every queued message is relayed exactly once, and a campaign's controls and counters work.
TEST(ClusterDaemon, QueuedSendsAreRelayedOnceFromShardsOnEveryPrimary) {
  // A replica each: the enqueue and the mark before the carrier request wait for one.
  redis_cluster cl(3, 1);
  temp_dir d;
  gateway_proc gw(d, cl.url(), "gwX", "[queue]\npoll_ms = 20\nshards = 8\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  EXPECT_NE(gw.proc->output().find("wait for 1 replica ack(s)"), std::string::npos) << gw.proc->output();
  constexpr int n = 30;
  for (int i = 0; i < n; ++i) {
    auto a = call_until_ok(
        c,
        json::object{{"op", "send"}, {"to", consumer(i)}, {"sender", "acme"},
                     {"purpose", "informational"}, {"body", "q" + std::to_string(i)},
                     {"mode", "queue"}, {"campaign", "winter"}},
        400);
    ASSERT_EQ(a["status"], "queued") << json::serialize(a) << gw.proc->output();
  }
  std::vector<std::string> lines;
  for (int i = 0; i < 1000 && lines.size() < std::size_t(n); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lines = outbox_lines(d, "gwX");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  lines = outbox_lines(d, "gwX");
  std::multiset<std::string> bodies;
  for (auto& l : lines) bodies.insert(std::string(json::parse(l).at("body").as_string()));
  ASSERT_EQ(lines.size(), std::size_t(n)) << gw.proc->output();
  for (int i = 0; i < n; ++i) EXPECT_EQ(bodies.count("q" + std::to_string(i)), 1u);

  // The shards' keys are spread over the primaries.
  std::set<int> primaries;
  for (int s = 0; s < 8; ++s)
    primaries.insert(cl.primary_of_slot(redis::key_slot("{sg:q:" + std::to_string(s) + "}:due")));
  EXPECT_EQ(primaries.size(), 3u);
  json::object st;
  for (int i = 0; i < 200; ++i) {
    st = c.call(json::parse(R"({"op":"campaign","sender":"acme","campaign":"winter"})").as_object());
    if (st["sent"] == n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(st["sent"], n) << json::serialize(st);
  EXPECT_EQ(st["in_queue"], 0) << json::serialize(st);
  auto qs = c.call(json::parse(R"({"op":"queue_stats"})").as_object());
  EXPECT_EQ(qs["depth"], 0) << json::serialize(qs);
  EXPECT_EQ(qs["shards"], 8) << json::serialize(qs);
}

// Slots move between primaries (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE: what
// `redis-cli --cluster reshard` does) while checks run: every check is answered, and every
// answer still holds the opt-out.
TEST(ClusterDaemon, ChecksDuringAReshardAllAnswerFromTheMovedSlots) {
  redis_cluster cl(3, 0);
  temp_dir d;
  gateway_proc gw(d, cl.url(), "gwR");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  constexpr int n = 24;
  for (int i = 0; i < n; ++i) {
    auto o = call_until_ok(c, json::object{{"op", "optout"}, {"to", consumer(i)}, {"sender", "acme"}}, 400);
    ASSERT_EQ(o["ok"], true) << json::serialize(o);
  }
  std::atomic<bool> done{false};
  std::atomic<int> checks{0}, failed{0};
  std::thread checker([&] {
    auto cc = gw.client();
    json::array to;
    for (int i = 0; i < n; ++i) to.emplace_back(consumer(i));
    while (!done) {
      auto r = cc.call(json::object{{"op", "check"}, {"sender", "acme"}, {"purpose", "informational"}, {"to", to}});
      ++checks;
      bool all = r["ok"] == true;
      if (all)
        for (auto& res : r["results"].as_array()) {
          bool out = false;
          for (auto& why : res.at("reasons").as_array()) out = out || why == "optout";
          all = all && out;
        }
      if (!all) ++failed;
      const int one = checks % n;
      if (!denied_for_optout(cc, consumer(one))) ++failed;
    }
  });
  // Move the slot of every number to the next primary.
  std::set<int> moved;
  for (int i = 0; i < n; ++i) {
    const int slot = slot_of_number(cl, consumer(i));
    ASSERT_GE(slot, 0);
    if (!moved.insert(slot).second) continue;
    const auto ps = cl.primaries();
    const int from = cl.primary_of_slot(slot);
    const int to = ps[(std::find(ps.begin(), ps.end(), from) - ps.begin() + 1) % ps.size()];
    cl.move_slot(slot, to);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  done = true;
  checker.join();
  EXPECT_EQ(failed.load(), 0) << checks.load() << " rounds";
  EXPECT_GT(checks.load(), 10);
  RecordProperty("check_rounds", checks.load());
  for (int i = 0; i < n; ++i) EXPECT_TRUE(denied_for_optout(c, consumer(i))) << consumer(i);
}

// A primary killed with SIGKILL in the middle of a STOP storm: STOPs for its slots are answered
// 503 until its replica took over (the carrier retries them), and every STOP answered 200 is an
// opt-out after the failover (each waited for the replica before its 200).
TEST(ClusterDaemon, APrimaryKilledDuringAStopStormLosesNoAcknowledgedStop) {
  redis_cluster cl(3, 1, /*node_timeout_ms=*/1000);
  temp_dir d;
  gateway_proc gw(d, cl.url(), "gwK");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto first = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+12125552671"}, {"sender", "acme"}}, 400);
  ASSERT_EQ(first["ok"], true) << json::serialize(first);

  std::vector<int> status;
  std::atomic<int> sent{0};
  std::atomic<bool> stop_storm{false};
  std::thread storm([&] {
    for (int i = 0; i < 400; ++i) {
      if (stop_storm) break;
      status.push_back(post_inbound(gw.http_port, "storm-" + std::to_string(i), consumer(i), acme_number, "STOP"));
      ++sent;
    }
  });
  while (sent < 60) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int victim = cl.primaries().front();
  cl.kill(victim);
  cl.wait_agreed();  // its replica is the primary now
  // A few more after the failover (those to the promoted shard, which has no replica left to
  // acknowledge, are refused: redis.min_replica_acks = 1).
  const int after = sent + 40;
  while (sent < after && sent < 400) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop_storm = true;
  storm.join();
  int acked = 0, refused = 0;
  for (int i = 0; i < int(status.size()); ++i) {
    if (status[i] != 200) {
      ++refused;
      EXPECT_EQ(status[i], 503) << i;
      continue;
    }
    ++acked;
    bool optout = false;
    for (int t = 0; t < 200 && !optout; ++t) {  // the gateway may still be moving to the new map
      optout = denied_for_optout(c, consumer(i));
      if (!optout) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_TRUE(optout) << "STOP " << i << " was answered 200 but its opt-out is gone";
  }
  EXPECT_GT(acked, 60);
  RecordProperty("acknowledged", acked);
  RecordProperty("refused", refused);
}

}  // namespace
}  // namespace stopgate::test
