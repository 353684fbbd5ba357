// The stopgate daemon end to end: the real binary, a real redis-server, the socket API over
// loopback TCP, signals.
#include "dnc/lists/loader.hpp"
#include "gateway/api/op_table.hpp"
#include "gateway/evidence/verify.hpp"
#include "gateway/rfc3339.hpp"
#include "tests/gateway/daemon_support.hpp"
#include "tests/gateway/evidence_test_support.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace stopgate::test {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace gwtest;  // NOLINT: the daemon tests' shared helpers

TEST(Daemon, CheckConsentOptoutAndEvidenceEndToEnd) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  auto pong = c.call(json::object{{"op", "ping"}});
  EXPECT_EQ(pong["pong"], true);

  // Marketing SMS without consent: denied with no_consent.
  auto a = check(c, "(212) 555-2671", "acme", noon);
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["result"].at("to"), "+12125552671");
  EXPECT_EQ(a["result"].at("decision"), "deny");
  EXPECT_EQ(reasons(a), std::vector<std::string>{"no_consent"});

  // Record express written consent: now allowed.
  auto cons = c.call(json::parse(R"({"op":"consent","to":"+12125552671","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  EXPECT_TRUE(cons["consent_id"].as_string().starts_with("cn_"));
  EXPECT_TRUE(cons["evidence_id"].as_string().starts_with("gwA-"));
  auto b = check(c, "+12125552671", "acme", noon);
  EXPECT_EQ(b["result"].at("decision"), "allow") << json::serialize(b);

  // Consent for acme does not help sender "other".
  EXPECT_EQ(check(c, "+12125552671", "other", noon)["result"].at("decision"), "deny");

  // An opt-out for acme wins over the older consent.
  auto o = c.call(json::parse(R"({"op":"optout","to":"+12125552671","sender":"acme","source":{"channel":"phone","note":"agent"}})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  auto after = check(c, "+12125552671", "acme", noon);
  EXPECT_EQ(after["result"].at("decision"), "deny");
  auto rs = reasons(after);
  EXPECT_NE(std::find(rs.begin(), rs.end(), "optout"), rs.end());

  // Batch: results in order, a bad number gets its own invalid_number.
  auto batch = c.call(json::parse(R"({"op":"check","sender":"acme","to":["+12125552671","+1212555","+13125552671"]})").as_object());
  ASSERT_EQ(batch["ok"], true) << json::serialize(batch);
  auto& results = batch["results"].as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].at("decision"), "deny");
  EXPECT_EQ(results[1].at("reasons").as_array()[0], "invalid_number");
  EXPECT_EQ(results[2].at("to"), "+13125552671");

  // A committed check answers with an evidence id.
  auto committed = check(c, "+13125552671", "acme", noon + R"(,"commit":true)");
  EXPECT_TRUE(committed["result"].at("evidence_id").as_string().starts_with("gwA-")) << json::serialize(committed);

  // Lookup shows the opt-out and the consent.
  auto lk = c.call(json::object{{"op", "lookup"}, {"to", "+12125552671"}});
  ASSERT_EQ(lk["ok"], true) << json::serialize(lk);
  EXPECT_EQ(lk["optouts"].as_array().size(), 1u);
  EXPECT_EQ(lk["consents"].as_array().size(), 1u);
  EXPECT_EQ(lk["region"], "NY");

  // Errors: unknown sender, bad field, invalid number for single-number ops.
  auto bad = check(c, "+12125552671", "nobody");
  EXPECT_EQ(bad["error"].at("code"), "bad_request");
  auto inv = c.call(json::object{{"op", "optout"}, {"to", "12"}, {"sender", "acme"}});
  EXPECT_EQ(inv["error"].at("code"), "invalid_number");
  auto nosend = c.call(json::object{{"op", "send"}, {"to", "+12125552671"}});
  EXPECT_EQ(nosend["error"].at("code"), "bad_request");  // send is an op; it needs a sender and a body

  // SIGTERM: graceful stop, exit 0, evidence chain intact and checkpointed.
  gw.proc->signal(SIGTERM);
  auto code = gw.proc->wait(std::chrono::seconds(15));
  ASSERT_TRUE(code) << gw.proc->output();
  EXPECT_EQ(*code, 0) << gw.proc->output();
  std::ifstream kf(d.path() / "gwA" / "evidence.key");
  std::string key;
  std::getline(kf, key);
  auto v = evidence::verify_directory(d.path() / "gwA" / "evidence", key);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->failure) << v->failure->describe();
  EXPECT_GE(v->records, 4u);  // consent, optout, decision, checkpoint
}

TEST(Daemon, BatchedAndSingleCheckAnswersAreTheSameBytes) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  // The same numbers through the batched path (no `at`: the answer is written as text) and
  // the single path (`at`: an object, serialised by Boost.JSON). Invalid numbers are answered
  // without the store or the clock, so the two answers must match byte for byte, escapes
  // included.
  const std::string to = R"(["+1212555","12\u0001\"x\\y\b\f","+1 (212) 555-01"])";
  c.send_line(R"({"op":"check","id":1,"sender":"acme","to":)" + to + "}");
  const std::string batched = c.read_line();
  c.send_line(R"({"op":"check","id":2,"sender":"acme","to":)" + to + noon + "}");
  const std::string single = c.read_line();
  ASSERT_TRUE(batched.starts_with(R"({"id":1,"ok":true,"results":[{"to":"+1212555","decision":"deny")")) << batched;
  ASSERT_TRUE(single.starts_with(R"({"id":2,"ok":true,)")) << single;
  EXPECT_EQ(batched.substr(7), single.substr(7));
  EXPECT_NE(batched.find(R"("to":"12\u0001\"x\\y\b\f")"), std::string::npos) << batched;
}

TEST(Daemon, OptoutThroughOneGatewayIsSeenByAnotherAtOnce) {
  redis_server r;
  temp_dir d;
  gateway_proc a(d, r, "gwA");
  gateway_proc b(d, r, "gwB");
  auto ca = a.client();
  auto cb = b.client();
  ASSERT_TRUE(ca.connected() && cb.connected());
  auto cons = cb.call(json::parse(R"({"op":"consent","to":"+12125552671","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons) << b.proc->output();
  (void)cons;
  EXPECT_EQ(check(cb, "+12125552671", "acme", noon)["result"].at("decision"), "allow");
  auto o = ca.call(json::parse(R"({"op":"optout","to":"+12125552671","sender":"*"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  // The very next request through the other gateway is denied.
  auto after = check(cb, "+12125552671", "acme", noon);
  EXPECT_EQ(after["result"].at("decision"), "deny") << json::serialize(after);
}

std::uint64_t hgetall_calls(const redis_server& r) {
  const std::string stats = r.cli("INFO commandstats");
  const auto at = stats.find("cmdstat_hgetall:calls=");
  return at == std::string::npos ? 0 : std::stoull(stats.substr(at + 22));
}

TEST(Daemon, ACachedNumberWrittenThroughAnotherGatewayIsSeenAtOnce) {
  redis_server r;
  temp_dir d;
  gateway_proc a(d, r, "gwA");
  gateway_proc b(d, r, "gwB");
  auto ca = a.client();
  auto cb = b.client();
  ASSERT_TRUE(ca.connected() && cb.connected());
  const std::string to = "+13125552671";
  auto cons = ca.call(json::parse(R"({"op":"consent","to":")" + to + R"(","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  EXPECT_EQ(check(cb, to, "acme", noon)["result"].at("decision"), "allow");
  // Gateway B now answers this number's opt-outs and consents from its cache.
  const auto before = hgetall_calls(r);
  EXPECT_EQ(check(cb, to, "acme", noon)["result"].at("decision"), "allow");
  EXPECT_EQ(hgetall_calls(r), before);
  auto o = ca.call(json::parse(R"({"op":"optout","to":")" + to + R"(","sender":"acme"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  auto after = check(cb, to, "acme", noon);
  EXPECT_EQ(after["result"].at("decision"), "deny") << json::serialize(after);
  EXPECT_EQ(reasons(after).at(0), "optout");
}

TEST(Daemon, FailsClosedWhileRedisIsDownAndRecovers) {
  redis_server r(/*appendonly=*/true);  // the consent must survive the Redis restart
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  auto cons = c.call(json::parse(R"({"op":"consent","to":"+12125552671","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  EXPECT_EQ(check(c, "+12125552671", "acme", noon)["result"].at("decision"), "allow");
  r.stop();
  auto down = check(c, "+12125552671", "acme", noon);
  EXPECT_EQ(down["result"].at("decision"), "deny") << json::serialize(down);
  auto rs = reasons(down);
  EXPECT_NE(std::find(rs.begin(), rs.end(), "store_unavailable"), rs.end());
  auto o = c.call(json::object{{"op", "optout"}, {"to", "+13125552671"}, {"sender", "acme"}});
  EXPECT_EQ(o["error"].at("code"), "store_unavailable");
  r.start();
  json::object up;
  for (int i = 0; i < 200; ++i) {
    up = check(c, "+12125552671", "acme", noon);
    if (up["result"].at("decision") == "allow") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(up["result"].at("decision"), "allow") << json::serialize(up);
}

// A frozen Redis (SIGSTOP) keeps its sockets open and the kernel still accepts connections
// for it: /readyz must not call that ready while every check fails closed.
TEST(Daemon, ReadinessFollowsAFrozenRedis) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto wait_for = [&](bool want) { return wait_ready(gw, want); };
  ASSERT_TRUE(wait_for(true)) << http_request(gw.http_port, "GET", "/readyz");
  r.pause();
  EXPECT_TRUE(wait_for(false));
  const std::string frozen = http_request(gw.http_port, "GET", "/readyz");
  EXPECT_NE(frozen.find("\"redis_ok\":false"), std::string::npos) << frozen;
  EXPECT_NE(http_request(gw.http_port, "GET", "/metrics").find("stopgate_redis_up{worker=\"0\"} 0"),
            std::string::npos);
  r.resume();
  EXPECT_TRUE(wait_for(true)) << http_request(gw.http_port, "GET", "/readyz");
}

// With a replica, an opt-out is acknowledged only once the replica holds it
// (redis.min_replica_acks = auto -> 1): a replica that does not acknowledge makes the opt-out
// store_unavailable (the caller retries) instead of an acknowledged write a failover could lose.
TEST(Daemon, OptoutsWaitForTheReplicaWhenThereIsOne) {
  redis_server r, replica;
  ASSERT_EQ(r.cli("CONFIG SET repl-diskless-sync-delay 0"), "OK");
  ASSERT_EQ(replica.cli("REPLICAOF 127.0.0.1 " + std::to_string(r.port())), "OK");
  for (int i = 0; i < 400 && r.cli("INFO replication").find("connected_slaves:1") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  temp_dir d;
  gateway_proc gw(d, r, "gwA", "");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  json::object o = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+13125552671"}, {"sender", "acme"}});
  EXPECT_EQ(o["ok"], true) << json::serialize(o);
  EXPECT_NE(gw.proc->output().find("wait for 1 replica ack(s) (redis.min_replica_acks = auto)"),
            std::string::npos)
      << gw.proc->output();
  replica.pause();
  auto behind = c.call(json::object{{"op", "optout"}, {"to", "+13125552672"}, {"sender", "acme"}});
  replica.resume();
  EXPECT_EQ(behind["error"].at("code"), "store_unavailable") << json::serialize(behind);
  EXPECT_NE(json::serialize(behind).find("min_replica_acks"), std::string::npos) << json::serialize(behind);
  // The operator hears of it: an opt-out the gateway could not take is an error in the log.
  std::string out;
  for (int i = 0; i < 100 && out.find("not stored (evidence") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = gw.proc->output();
  }
  EXPECT_NE(out.find("error opt-out of"), std::string::npos) << out;
  EXPECT_NE(out.find("not stored (evidence"), std::string::npos) << out;
  EXPECT_EQ(out.find("+13125552672"), std::string::npos) << "numbers are masked in the log";
  // Retried once the replica answers again: recorded, and checks deny it.
  json::object again;
  for (int i = 0; i < 50; ++i) {  // the resumed replica may take a moment to catch up
    again = c.call(json::object{{"op", "optout"}, {"to", "+13125552672"}, {"sender", "acme"}});
    if (again["ok"] == true) break;
  }
  EXPECT_EQ(again["ok"], true) << json::serialize(again);
  auto rs = reasons(check(c, "+13125552672", "acme", noon));
  EXPECT_NE(std::find(rs.begin(), rs.end(), "optout"), rs.end());
}

// Redis loses its data (FLUSHALL here; a restart without persistence or a failover to a replica
// that missed writes look the same to a running gateway): /readyz says so within a second, the
// gateway puts its pseudonym key back, and `stopgatectl contacts rebuild --from-evidence`
// restores every opt-out, consent and forget exactly as it was (the same consent ids); the
// gateway is ready again, and a second run changes nothing.
TEST(Daemon, LostContactDataIsNotReadyUntilRebuiltFromEvidence) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwR");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  auto call = [&](const std::string& req) { return c.call(json::parse(req).as_object()); };
  json::object o = call_until_ok(c, json::parse(R"({"op":"optout","to":"+13125552671","sender":"acme"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  ASSERT_EQ(call(R"({"op":"optout","to":"+13125552672","sender":"*"})")["ok"], true);
  ASSERT_EQ(call(R"({"op":"consent","to":"+13125552673","sender":"acme")" + express_consent + "}")["ok"], true);
  ASSERT_EQ(call(R"({"op":"consent","to":"+13125552674","sender":"acme")" + express_consent + "}")["ok"], true);
  ASSERT_EQ(call(R"({"op":"forget","to":"+13125552674"})")["ok"], true);
  // An opt-in after the opt-out lifts it; the consent stays.
  ASSERT_EQ(call(R"({"op":"optout","to":"+13125552675","sender":"acme"})")["ok"], true);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the opt-in's time is in ms
  auto optin = call(R"({"op":"optin","to":"+13125552675","sender":"acme","kind":"express","captured_at":")" +
                    gateway::format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now())) +
                    R"(","source":{"method":"keyword"}})");
  ASSERT_EQ(optin["ok"], true) << json::serialize(optin);
  const std::vector<std::string> numbers{"+13125552671", "+13125552672", "+13125552673", "+13125552674",
                                         "+13125552675"};
  auto lookups = [&] {
    std::vector<std::string> out;
    for (auto& n : numbers) {
      auto l = call(R"({"op":"lookup","to":")" + n + R"("})");
      l.erase("id");  // the request's own
      out.push_back(json::serialize(l));
    }
    return out;
  };
  const auto before = lookups();
  ASSERT_NE(before[0].find("\"optouts\":[{"), std::string::npos) << before[0];

  auto wait_for = [&](bool want) { return wait_ready(gw, want); };
  ASSERT_TRUE(wait_for(true)) << http_request(gw.http_port, "GET", "/readyz");
  // A check reads the change counter on its worker (as every check does): the gateway has seen
  // these writes, which is what lets it notice when Redis no longer has them.
  auto denied = reasons(check(c, "+13125552671", "acme", noon));
  ASSERT_NE(std::find(denied.begin(), denied.end(), "optout"), denied.end());
  ASSERT_EQ(r.cli("FLUSHALL"), "OK");
  ASSERT_TRUE(wait_for(false)) << "a gateway that saw the loss stays ready";
  EXPECT_NE(http_request(gw.http_port, "GET", "/readyz").find("contact_data"), std::string::npos);
  EXPECT_NE(http_request(gw.http_port, "GET", "/metrics").find("stopgate_ready_condition{condition=\"contact_data\"} 0"),
            std::string::npos);
  // The gateway puts its pseudonym key back; the rebuild needs it.
  for (int i = 0; i < 200 && r.cli("EXISTS stopgate:contacts:pseudonym-key") != "1"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  const std::string ctl = built_program("tools/stopgatectl/stopgatectl");
  auto [code, out] = run_program({ctl, "--config", gw.config.string(), "contacts", "rebuild", "--from-evidence"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("replayed 7 records")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("3 opt-outs")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("1 forgets")) << out;
  EXPECT_TRUE(wait_for(true)) << http_request(gw.http_port, "GET", "/readyz");
  EXPECT_EQ(lookups(), before);
  auto rs = reasons(check(c, "+13125552671", "acme", noon));
  EXPECT_NE(std::find(rs.begin(), rs.end(), "optout"), rs.end());
  // Again: idempotent (no second consent, no repeated evidence id).
  auto [code2, out2] = run_program({ctl, "--config", gw.config.string(), "contacts", "rebuild", "--from-evidence"});
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_EQ(lookups(), before);
  EXPECT_TRUE(ready_now(gw));
}

// Redis lost everything while no gateway ran (a restart without persistence during a
// deploy): the gateway that starts finds no pseudonym key although its evidence log holds
// records, so it is not ready until the rebuild, instead of answering from an empty store.
TEST(Daemon, AGatewayThatStartsOnAnEmptiedRedisIsNotReadyUntilRebuilt) {
  redis_server r;
  temp_dir d;
  {
    gateway_proc gw(d, r, "gwE");
    auto c = gw.client();
    ASSERT_TRUE(c.connected());
    json::object o = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+13125552671"}, {"sender", "acme"}});
    ASSERT_EQ(o["ok"], true) << json::serialize(o);
    EXPECT_TRUE(wait_ready(gw, true)) << "a first start on an empty Redis is no loss";
  }
  ASSERT_EQ(r.cli("FLUSHALL"), "OK");
  gateway_proc gw(d, r, "gwE");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  std::string readyz;
  for (int i = 0; i < 200 && readyz.find("contact_data") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    readyz = http_request(gw.http_port, "GET", "/readyz");
  }
  EXPECT_NE(readyz.find("contact_data"), std::string::npos) << readyz << gw.proc->output();
  EXPECT_NE(gw.proc->output().find("Redis held no contact data although the evidence log holds"), std::string::npos);
  auto [code, out] = run_program({built_program("tools/stopgatectl/stopgatectl"), "--config", gw.config.string(),
                                  "contacts", "rebuild", "--from-evidence"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("1 opt-outs")) << out;
  EXPECT_TRUE(wait_ready(gw, true)) << http_request(gw.http_port, "GET", "/readyz");
  auto rs = reasons(check(c, "+13125552671", "acme", noon));
  EXPECT_NE(std::find(rs.begin(), rs.end(), "optout"), rs.end());
}

// The gateway on Sentinels (redis.url = sentinel://...): an opt-out acknowledged before a
// failover (it waited for the replica: min_replica_acks auto = 1) is there after it; checks
// running through the failover are never answered allow (they fail closed while there is no
// primary to ask); afterwards the gateway answers and writes on the new primary without a
// restart.
TEST(Daemon, ASentinelFailoverDuringChecksLosesNoOptoutAndNeedsNoRestart) {
  test::redis_sentinel sentinels;
  temp_dir d;
  gateway_proc gw(d, sentinels.url(), "gwS");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  json::object o = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+13125552671"}, {"sender", "acme"}}, 400);
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  EXPECT_NE(gw.proc->output().find("wait for 1 replica ack(s)"), std::string::npos) << gw.proc->output();
  const int old_primary = sentinels.primary();

  std::atomic<int> new_primary{0};
  std::thread failover([&] { new_primary = sentinels.failover(); });
  int answered = 0, refused = 0, allowed = 0;
  auto checker = gw.client();
  while (new_primary == 0) {
    auto r = check(checker, "+13125552671", "acme", noon);
    const auto* result = r.if_contains("result");
    if (result && result->as_object().at("decision") == "allow") ++allowed;
    if (result && result->as_object().at("decision") == "deny") ++answered;
    if (!result) ++refused;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  failover.join();
  EXPECT_NE(new_primary.load(), old_primary);
  EXPECT_EQ(allowed, 0) << answered << " denied, " << refused << " refused";
  EXPECT_GT(answered + refused, 20) << "checks ran through the failover";
  RecordProperty("denied", answered);
  RecordProperty("refused", refused);
  // On the new primary, without a restart: the opt-out is there, and writes work.
  std::vector<std::string> rs;
  for (int i = 0; i < 400; ++i) {
    rs = reasons(check(c, "+13125552671", "acme", noon));
    if (std::find(rs.begin(), rs.end(), "optout") != rs.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(std::find(rs.begin(), rs.end(), "optout"), rs.end());
  json::object after = call_until_ok(c, json::object{{"op", "optout"}, {"to", "+13125552672"}, {"sender", "acme"}}, 400);
  EXPECT_EQ(after["ok"], true) << json::serialize(after);
  EXPECT_NE(sentinels.cli(new_primary, "DBSIZE"), "0");
}

// stopgatectl check and lookup through a running gateway print what an operator needs to act:
// why a number is invalid, a list that is not loaded, and how to pass a key.
TEST(Daemon, StopgatectlCheckAndLookupExplainThemselves) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwC", "[lists.federal]\nkind = \"registry\"\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  const std::string ctl = built_program("tools/stopgatectl/stopgatectl"), cfg = gw.config.string();
  auto [code, out] = run_program({ctl, "--config", cfg, "check", "2125550100", "--sender", "acme"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("invalid_number (")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("fictional")) << out;
  auto [lcode, lout] = run_program({ctl, "--config", cfg, "lookup", "2125552671"});
  EXPECT_EQ(lcode, 0) << lout;
  EXPECT_THAT(lout, ::testing::ContainsRegex("federal +not loaded\n")) << lout;
  EXPECT_THAT(lout, ::testing::Not(::testing::HasSubstr("generation ,"))) << lout;
}

TEST(Daemon, StopgatectlWithoutAKeySaysHowToPassOne) {
  redis_server r;
  temp_dir d;
  const std::string key = "sg_daemon_test_key_0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  gateway_proc gw(d, r, "gwK", "[[api_keys]]\nname = \"ops\"\nsha256 = \"" + hex + "\"\nroles = [\"check\"]\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  const std::string ctl = built_program("tools/stopgatectl/stopgatectl"), cfg = gw.config.string();
  ::unsetenv("STOPGATE_API_KEY");
  auto [code, out] = run_program({ctl, "--config", cfg, "check", "2125552671", "--sender", "acme"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("unauthenticated")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("--key KEY or set STOPGATE_API_KEY")) << out;
  auto [kcode, kout] = run_program({ctl, "--config", cfg, "check", "2125552671", "--sender", "acme", "--key", key});
  EXPECT_EQ(kcode, 0) << kout;
  EXPECT_THAT(kout, ::testing::HasSubstr("+12125552671")) << kout;
}

// A second gateway on the same data directory fails at once, naming the first one's pid; one
// on another directory but the same port fails naming the address. The first keeps serving.
TEST(Daemon, ASecondGatewayOnTheSameDataDirectoryOrPortFailsAtOnce) {
  redis_server r;
  temp_dir d;
  gateway_proc first(d, r, "gwL");
  auto c = first.client();
  ASSERT_TRUE(c.connected());
  process same_dir({built_program("gateway/stopgate"), "--config", first.config.string()}, d.path() / "second.log");
  auto code = same_dir.wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "the second gateway kept running:\n" << same_dir.output();
  EXPECT_EQ(*code, 1) << same_dir.output();
  EXPECT_THAT(same_dir.output(), ::testing::HasSubstr("another stopgate (pid " +
                                                      std::to_string(first.proc->pid()) +
                                                      ") is running on data directory"));

  // Another data directory, the first one's socket-API port.
  auto text = config_text(d, r.tcp_url(), first.api_port, free_port(), "gwM");
  auto other = d.write("gwM.toml", text);
  process same_port({built_program("gateway/stopgate"), "--config", other.string()}, d.path() / "third.log");
  code = same_port.wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "the third gateway kept running:\n" << same_port.output();
  EXPECT_EQ(*code, 1) << same_port.output();
  EXPECT_THAT(same_port.output(),
              ::testing::HasSubstr("api.listen 127.0.0.1:" + std::to_string(first.api_port) + " (tcp)"));
  EXPECT_EQ(check(c, "+12125552671")["ok"], true) << "the first gateway still answers";
}

TEST(Daemon, RegistryMissingIsStaleAndLoadedRegistryDenies) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA", "[lists.federal]\nkind = \"registry\"\nexempt_with_consent = false\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  auto cons = c.call(json::parse(R"({"op":"consent","to":"+12125552671","sender":"acme")" + express_consent + "}").as_object());
  ASSERT_EQ(cons["ok"], true);
  auto stale = check(c, "+12125552671", "acme", noon);
  auto rs = reasons(stale);
  EXPECT_NE(std::find(rs.begin(), rs.end(), "dnc_data_stale"), rs.end()) << json::serialize(stale);
  // Not ready while a required registry is missing.
  auto notready = http_request(gw.http_port, "GET", "/readyz");
  EXPECT_NE(notready.find("503"), std::string::npos) << notready;
  EXPECT_NE(notready.find("list:federal"), std::string::npos) << notready;
  // The log says so too, with what to do (the first start of the example config), and the
  // metric carries the condition.
  std::string log;
  for (int i = 0; i < 200 && log.find("not ready: required list") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    log = stopgate::evidence::test::read_all(d.path() / "gwA.log");
  }
  EXPECT_NE(log.find("not ready: required list 'federal' is not loaded"), std::string::npos) << log;
  EXPECT_NE(log.find("stopgatectl dnc load --list federal"), std::string::npos) << log;
  EXPECT_NE(http_request(gw.http_port, "GET", "/metrics")
                .find("stopgate_ready_condition{condition=\"list:federal\"} 0"),
            std::string::npos);

  // Load the federal list with stopgatectl; the gateway picks it up within a second.
  auto file = d.write("federal.txt", "2125552671\n3125552671\n");
  auto cfg = gw.config.string();
  auto [code, out] = run_program({built_program("tools/stopgatectl/stopgatectl"), "--config", cfg, "dnc", "load",
                                  "--list", "federal", "--format", "ftc", "--snapshot", "2026-12-01", file.string()});
  ASSERT_EQ(code, 0) << out;
  json::object listed;
  for (int i = 0; i < 100; ++i) {
    listed = check(c, "+12125552671", "acme", noon);
    auto now = reasons(listed);
    if (std::find(now.begin(), now.end(), "federal_dnc") != now.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rs = reasons(listed);
  EXPECT_NE(std::find(rs.begin(), rs.end(), "federal_dnc"), rs.end()) << json::serialize(listed);
  EXPECT_EQ(std::find(rs.begin(), rs.end(), "dnc_data_stale"), rs.end());
  EXPECT_EQ(check(c, "+16175552671", "acme", noon)["result"].at("decision"), "deny");  // no consent, not listed
  std::string ready;
  for (int i = 0; i < 100; ++i) {  // Redis health is sampled every 100 ms
    ready = http_request(gw.http_port, "GET", "/readyz");
    if (ready.find("200 OK") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(ready.find("200 OK"), std::string::npos) << ready;
  for (int i = 0; i < 200 && log.find("ready again: list:federal") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    log = stopgate::evidence::test::read_all(d.path() / "gwA.log");
  }
  EXPECT_NE(log.find("ready again: list:federal"), std::string::npos) << log;
}

// A required registry older than its max_age_days is not ready either: every marketing check
// answers dnc_data_stale.
TEST(Daemon, AStaleRequiredListIsNotReady) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA", "[lists.federal]\nkind = \"registry\"\nmax_age_days = 31\n");
  auto file = d.write("federal.txt", "2125552671\n");
  auto [code, out] = run_program({built_program("tools/stopgatectl/stopgatectl"), "--config", gw.config.string(), "dnc", "load",
                                  "--list", "federal", "--format", "ftc", "--snapshot", "2020-01-01", file.string()});
  ASSERT_EQ(code, 0) << out;
  std::string body;
  for (int i = 0; i < 200; ++i) {
    body = http_request(gw.http_port, "GET", "/readyz");
    if (body.find("list:federal") != std::string::npos && body.find("\"redis_ok\":true") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(body.find("503"), std::string::npos) << body;
  EXPECT_NE(body.find("list:federal"), std::string::npos) << body;
  std::string log;
  for (int i = 0; i < 200 && log.find("is stale") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    log = stopgate::evidence::test::read_all(d.path() / "gwA.log");
  }
  EXPECT_NE(log.find("required list 'federal' is stale: its snapshot 2020-01-01"), std::string::npos) << log;
  // The snapshot date as a timestamp, for an alert on time() - it.
  const auto metrics = http_request(gw.http_port, "GET", "/metrics");
  EXPECT_NE(metrics.find("stopgate_list_snapshot_timestamp_seconds{list=\"federal\"} 1577836800"), std::string::npos)
      << metrics;
}

TEST(Daemon, HttpHealthMetricsAndOps) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(check(c, "+12125552671", "acme", noon)["result"].at("decision"), "deny");
  auto health = http_request(gw.http_port, "GET", "/healthz");
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  auto ops = http_request(gw.http_port, "POST", "/v1/ops",
                          R"({"op":"check","id":"h1","sender":"acme","to":"+12125552671"})");
  EXPECT_NE(ops.find("200 OK"), std::string::npos) << ops;
  EXPECT_NE(ops.find(R"("id":"h1","ok":true)"), std::string::npos) << ops;
  std::string metrics;
  for (int i = 0; i < 100; ++i) {  // Redis health is sampled every 100 ms
    metrics = http_request(gw.http_port, "GET", "/metrics");
    if (metrics.find("stopgate_redis_up{worker=\"0\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(metrics.find("# TYPE stopgate_decisions_total counter"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_decisions_total{decision=\"deny\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_decision_reasons_total{reason=\"no_consent\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_redis_up{worker=\"0\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_check_duration_seconds_count 2"), std::string::npos) << metrics;
  // The conventional process metrics and the build's version.
  for (const char* family : {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
                             "process_open_fds gauge", "process_start_time_seconds gauge",
                             "process_max_fds gauge", "stopgate_build_info gauge"})
    EXPECT_NE(metrics.find(std::string("# TYPE ") + family), std::string::npos) << family;
  EXPECT_NE(metrics.find("stopgate_build_info{version=\""), std::string::npos);
  // Socket-API errors by code, bytes and connections, named as the HTTP server's are.
  auto bad = c.call(json::parse(R"({"op":"check","to":"+12125552671","sender":"acme","chanel":"voice"})").as_object());
  ASSERT_EQ(bad["ok"], false);
  metrics = http_request(gw.http_port, "GET", "/metrics");
  EXPECT_NE(metrics.find("stopgate_api_errors_total{code=\"bad_request\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_api_errors_total{code=\"store_unavailable\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("stopgate_api_connections_open 1"), std::string::npos);
  for (const char* family : {"stopgate_api_received_bytes_total counter", "stopgate_api_sent_bytes_total counter",
                             "stopgate_api_connections_total counter", "stopgate_api_connections_rejected_total counter",
                             "stopgate_evidence_fsync_duration_seconds histogram",
                             "stopgate_list_snapshot_timestamp_seconds gauge",
                             "stopgate_list_loaded_timestamp_seconds gauge"})
    EXPECT_NE(metrics.find(std::string("# TYPE ") + family), std::string::npos) << family;
  EXPECT_NE(metrics.find("stopgate_evidence_fsync_duration_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
}

// Every op's example in the API reference (docs/API.md, generated from the op table) is sent
// to a real gateway: each is accepted, and every member of each answer is one the reference
// documents (an op answering something undocumented, or refusing a documented field, fails).
TEST(Daemon, EveryReferenceExampleIsAnsweredAsDocumented) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  for (const auto& op : gateway::api::op_table()) {
    SCOPED_TRACE(std::string(op.name));
    auto answer = c.call(json::parse(op.example_request).as_object());
    ASSERT_EQ(answer["ok"], true) << json::serialize(answer);
    std::set<std::string> declared{"id", "ok"};
    for (const auto& a : op.answer) {
      declared.insert(std::string(a.name));
      // (auth without keys configured answers only the key.)
      if (a.always) {
        EXPECT_TRUE(answer.contains(a.name)) << a.name << " missing: " << json::serialize(answer);
      }
    }
    for (const auto& [k, v] : answer) EXPECT_TRUE(declared.count(std::string(k))) << "undocumented member " << k;
  }
}

// A field the op does not define is refused with its name, on the socket API and /v1/ops:
// a misspelt `sent_at` (for `send_at`) must not send at once.
TEST(Daemon, UnknownFieldsAreRefusedNotIgnored) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  const std::string consented = R"({"op":"consent","to":"+12125552671","sender":"acme")" + express_consent + "}";
  ASSERT_EQ(c.call(json::parse(consented).as_object())["ok"], true);

  auto sent = c.call(json::parse(R"({"op":"send","to":"+12125552671","sender":"acme","body":"Sale tomorrow","sent_at":"2026-12-08T14:00:00Z"})").as_object());
  ASSERT_EQ(sent["ok"], false) << json::serialize(sent);
  EXPECT_EQ(sent["error"].at("code"), "bad_request");
  EXPECT_NE(std::string(sent["error"].at("message").as_string()).find("unknown field 'sent_at'"), std::string::npos)
      << json::serialize(sent);
  // Nothing was sent or recorded.
  auto stats = c.call(json::object{{"op", "stats"}});
  double sends = 0;
  for (const auto& sample : stats["metrics"].at("stopgate_send_total").at("samples").as_array())
    sends += sample.at("value").to_number<double>();
  EXPECT_EQ(sends, 0.0) << json::serialize(stats["metrics"].at("stopgate_send_total"));

  // Nested members, a misspelt field in a pipelined check batch (the others are answered), and
  // the caller's own x_ members (ignored).
  auto nested = c.call(json::parse(R"({"op":"optout","to":"+12125552671","sender":"acme","source":{"channel":"phone","notes":"x"}})").as_object());
  EXPECT_EQ(nested["error"].at("code"), "bad_request");
  EXPECT_NE(std::string(nested["error"].at("message").as_string()).find("'source.notes'"), std::string::npos);
  c.send_line(R"({"op":"check","id":1,"to":"+12125552671","sender":"acme"})"
              "\n"
              R"({"op":"check","id":2,"to":"+12125552671","sender":"acme","purpos":"informational"})"
              "\n"
              R"({"op":"check","id":3,"to":"+12125552671","sender":"acme","x_trace":"t-1"})");
  std::map<std::int64_t, json::object> by_id;
  for (int i = 0; i < 3; ++i) {
    auto line = json::parse(c.read_line()).as_object();
    by_id[line["id"].as_int64()] = line;
  }
  EXPECT_EQ(by_id[1]["ok"], true);
  EXPECT_EQ(by_id[2]["ok"], false);
  EXPECT_NE(json::serialize(by_id[2]).find("unknown field 'purpos'"), std::string::npos) << json::serialize(by_id[2]);
  EXPECT_EQ(by_id[3]["ok"], true) << json::serialize(by_id[3]);

  auto http = http_request(gw.http_port, "POST", "/v1/ops",
                           R"({"op":"check","id":"h1","to":"+12125552671","sender":"acme","chanel":"voice"})");
  EXPECT_NE(http.find("400 Bad Request"), std::string::npos) << http;
  EXPECT_NE(http.find("unknown field 'chanel'"), std::string::npos) << http;
}

// docs/METRICS.md lists exactly the families a gateway serves, each with its type.
TEST(Daemon, MetricsDocumentListsEveryFamilyServed) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  const std::string metrics = http_request(gw.http_port, "GET", "/metrics");
  std::map<std::string, std::string> served;  // family -> type
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("# TYPE ")) continue;
    std::istringstream words(line.substr(7));
    std::string name, type;
    words >> name >> type;
    served[name] = type;
  }
  ASSERT_GT(served.size(), 40u) << metrics;
  std::map<std::string, std::string> documented;
  std::ifstream doc(std::filesystem::path(STOPGATE_SOURCE_DIR) / "docs/METRICS.md");
  for (std::string line; std::getline(doc, line);) {
    // | `name` | type | meaning |
    if (!line.starts_with("| `")) continue;
    const auto end = line.find('`', 3);
    const auto type_begin = line.find("| ", end) + 2;
    documented[line.substr(3, end - 3)] = line.substr(type_begin, line.find(' ', type_begin) - type_begin);
  }
  for (const auto& [name, type] : served) {
    ASSERT_TRUE(documented.count(name)) << name << " is served but not in docs/METRICS.md";
    EXPECT_EQ(documented[name], type) << name;
  }
  for (const auto& [name, type] : documented) EXPECT_TRUE(served.count(name)) << name << " is documented but not served";
}

// `stats` carries every family /metrics serves (socket API, HTTP, Redis, send, relay,
// webhooks, ...): one source for both.
TEST(Daemon, StatsHoldsEveryMetricsFamily) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(check(c, "+12125552671", "acme", noon)["result"].at("decision"), "deny");
  const std::string metrics = http_request(gw.http_port, "GET", "/metrics");
  std::set<std::string> families;
  std::istringstream lines(metrics);
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("# TYPE ", 0) == 0) families.insert(l.substr(7, l.find(' ', 7) - 7));
  ASSERT_GT(families.size(), 20u) << metrics;
  auto st = c.call(json::object{{"op", "stats"}});
  ASSERT_EQ(st["ok"], true) << json::serialize(st);
  const auto& in_stats = st.at("metrics").as_object();
  for (const auto& f : families)
    EXPECT_TRUE(in_stats.contains(f)) << f << " is in /metrics but not in stats";
}

// The default limits agree: a check of api.max_batch (10,000) numbers fits in one line.
TEST(Daemon, DefaultLimitsTakeAFullBatchInOneLine) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  json::array numbers;
  for (int i = 0; i < 10000; ++i) numbers.emplace_back("+1212" + std::to_string(2000000 + i));
  auto resp = c.call(json::object{{"op", "check"}, {"sender", "acme"}, {"to", numbers}});
  ASSERT_EQ(resp["ok"], true) << json::serialize(resp).substr(0, 300);
  ASSERT_EQ(resp["results"].as_array().size(), 10000u);
  EXPECT_EQ(resp["results"].as_array()[9999].at("to"), "+12122009999");
  // One more is batch_too_large (with its id), not line_too_long.
  numbers.emplace_back("+12123000000");
  auto over = c.call(json::object{{"op", "check"}, {"id", 7}, {"sender", "acme"}, {"to", numbers}});
  EXPECT_EQ(over["error"].at("code"), "batch_too_large") << json::serialize(over).substr(0, 300);
  EXPECT_EQ(over["id"], 7);
}

TEST(Daemon, SighupAppliesAValidConfigAndRefusesAnInvalidOne) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  // Invalid file: refused, the gateway keeps answering with the old config.
  std::string original;
  {
    std::ifstream in(gw.config);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  d.write("gwA.toml", original + "[bogus]\nkey = 1\n");
  gw.proc->signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(gw.proc->running());
  EXPECT_EQ(check(c, "+12125552671", "acme", noon)["ok"], true);
  // /metrics says the last reload was refused (an operator's alert).
  std::string metrics = http_request(gw.http_port, "GET", "/metrics");
  EXPECT_NE(metrics.find("stopgate_config_last_reload_successful 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_config_reloads_total{result=\"refused\"} 1"), std::string::npos) << metrics;
  // Valid file adding a sender: the new sender is known after the reload.
  d.write("gwA.toml", original + "[senders.newco]\nnumbers = [\"+14155552002\"]\nroute = [\"sandbox\"]\n");
  EXPECT_EQ(check(c, "+12125552671", "newco", noon)["error"].at("code"), "bad_request");
  gw.proc->signal(SIGHUP);
  json::object resp;
  for (int i = 0; i < 100; ++i) {
    resp = check(c, "+12125552671", "newco", noon);
    if (resp["ok"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(resp["ok"], true) << json::serialize(resp);
  EXPECT_NE(gw.proc->output().find("reload refused"), std::string::npos);
  metrics = http_request(gw.http_port, "GET", "/metrics");
  EXPECT_NE(metrics.find("stopgate_config_last_reload_successful 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("stopgate_config_reloads_total{result=\"applied\"} 1"), std::string::npos) << metrics;
}

// Regression: a connection's reused request memory must not grow without bound (Boost.JSON's
// monotonic_resource::release kept growing its next block until bad_alloc).
TEST(Daemon, ManyLargeBatchesOnOneConnection) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected());
  json::array numbers;
  for (int i = 0; i < 300; ++i) numbers.emplace_back("+1212" + std::to_string(2000000 + i * 17));
  for (int k = 0; k < 80; ++k) {
    auto resp = c.call(json::object{{"op", "check"}, {"sender", "acme"}, {"to", numbers}});
    ASSERT_EQ(resp["ok"], true) << "request " << k << ": " << json::serialize(resp);
    ASSERT_EQ(resp["results"].as_array().size(), 300u);
  }
}

TEST(Daemon, PipelinedChecksOfOneReadEachGetTheirOwnDecision) {
  redis_server r;
  temp_dir d;
  gateway_proc gw(d, r, "gwA");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto o = c.call(json::parse(R"({"op":"optout","to":"+12125552671","sender":"*"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  // Uncommitted checks without `at`, written at once: the gateway handles the lines of a read
  // together (one contact fetch); each still gets its own answer.
  constexpr int total = 300;
  std::string lines;
  for (int i = 0; i < total; ++i) {
    const std::string id = "\"id\":" + std::to_string(i);
    switch (i % 5) {
      case 0: lines += R"({"op":"check","sender":"acme","to":"+12125552671",)" + id + "}"; break;
      case 1: lines += R"({"op":"check","sender":"acme","to":"+1312555)" + std::to_string(2000 + i) + "\"," + id + "}"; break;
      case 2: lines += R"({"op":"check","sender":"acme","to":"+1212555",)" + id + "}"; break;
      case 3: lines += R"({"op":"check","sender":"acme","channel":"fax","to":"+12125552671",)" + id + "}"; break;
      default: lines += R"({"op":"check","sender":"acme","to":["+13125552671","+12125552671"],)" + id + "}"; break;
    }
    if (i + 1 < total) lines += "\n";
  }
  c.send_line(lines);
  auto has = [](const json::value& result, std::string_view code) {
    for (auto& x : result.at("reasons").as_array())
      if (x.as_string() == code) return true;
    return false;
  };
  std::set<std::int64_t> seen;
  for (int k = 0; k < total; ++k) {
    const std::string line = c.read_line();
    ASSERT_FALSE(line.empty()) << "response " << k << " missing";
    auto resp = json::parse(line).as_object();
    const auto i = resp.at("id").as_int64();
    EXPECT_TRUE(seen.insert(i).second) << "answered twice: " << i;
    switch (i % 5) {
      case 0:
        ASSERT_EQ(resp["ok"], true) << line;
        EXPECT_EQ(resp["result"].at("decision"), "deny") << line;
        EXPECT_TRUE(has(resp["result"], "optout")) << line;
        break;
      case 1:
        ASSERT_EQ(resp["ok"], true) << line;
        EXPECT_EQ(resp["result"].at("decision"), "deny") << line;
        EXPECT_TRUE(has(resp["result"], "no_consent")) << line;
        EXPECT_FALSE(has(resp["result"], "optout")) << line;
        break;
      case 2:
        ASSERT_EQ(resp["ok"], true) << line;
        EXPECT_EQ(resp["result"].at("reasons").as_array()[0], "invalid_number") << line;
        break;
      case 3:
        EXPECT_EQ(resp["error"].at("code"), "bad_request") << line;
        break;
      default: {
        ASSERT_EQ(resp["ok"], true) << line;
        auto& results = resp["results"].as_array();
        ASSERT_EQ(results.size(), 2u) << line;
        EXPECT_FALSE(has(results[0], "optout")) << line;
        EXPECT_TRUE(has(results[1], "optout")) << line;
      }
    }
  }
  EXPECT_EQ(seen.size(), std::size_t(total));
}

TEST(Daemon, CheckConfigReportsEveryProblemWithKeyPaths) {
  temp_dir d;
  auto good = d.write("good.toml", "[carriers.sandbox]\ntype = \"sandbox\"\n[senders.a]\nroute = [\"sandbox\"]\n"
                                   "[evidence]\nhmac_key = \"file:k\"\n");
  auto [ok_code, ok_out] = run_program({built_program("gateway/stopgate"), "--check-config", good.string()});
  EXPECT_EQ(ok_code, 0) << ok_out;
  auto bad = d.write("bad.toml", "[api]\nmax_batch = -1\nnope = 1\n");
  auto [code, out] = run_program({built_program("gateway/stopgate"), "--check-config", bad.string()});
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("api.max_batch"), std::string::npos) << out;
  EXPECT_NE(out.find("api.nope"), std::string::npos) << out;
}

}  // namespace
}  // namespace stopgate::test
