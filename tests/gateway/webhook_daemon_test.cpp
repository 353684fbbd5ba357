// Inbound STOP webhooks through the real stopgate binary: two gateways sharing one Redis,
// the sandbox carrier's outbox as the confirmation's destination, kill -9 after a 200.
#include "gateway/evidence/verify.hpp"
#include "tests/gateway/daemon_support.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/webhooks.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <thread>

namespace stopgate::test {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

const std::string acme_number = "+14155552000";
const std::string consumer = "+12125552671";

std::string gateway_config(const temp_dir& d, const redis_server& r, int api_port, int http_port,
                           const std::string& instance) {
  return "[server]\ndata_dir = \"" + d.path().string() + "/" + instance + "\"\ninstance = \"" +
         instance +
         "\"\nthreads = 2\nshutdown_grace_ms = 2000\n"
         "[api]\nlisten = \"127.0.0.1:" +
         std::to_string(api_port) +
         "\"\n"
         "[http]\nlisten = \"127.0.0.1:" +
         std::to_string(http_port) +
         "\"\npublic_url = \"https://gw.example.com\"\n"
         "[redis]\nurl = \"" +
         r.tcp_url() +
         "\"\ntimeout_ms = 300\nreconnect_min_ms = 20\nreconnect_max_ms = 200\n"
         "[evidence]\nhmac_key = \"file:evidence.key\"\n"
         "[carriers.sandbox]\ntype = \"sandbox\"\nwebhook_secret = \"sandbox-secret\"\n"
         "[senders.acme]\nnumbers = [\"" +
         acme_number +
         "\"]\nroute = [\"sandbox\"]\n"
         "[lists.internal]\nkind = \"internal\"\n";
}

struct gateway_proc {
  std::string instance;
  int api_port = free_port();
  int http_port = free_port();
  std::filesystem::path config;
  std::unique_ptr<process> proc;

  gateway_proc(const temp_dir& d, const redis_server& r, std::string name)
      : instance(std::move(name)) {
    config = d.write(instance + ".toml", gateway_config(d, r, api_port, http_port, instance));
    start(d);
  }
  void start(const temp_dir& d) {
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", config.string()},
        d.path() / (instance + ".log"));
  }
};

// Posts a signed sandbox message to acme's number; the HTTP status.
int post_inbound(int port, const std::string& id, const std::string& body,
                 const std::string& from = consumer) {
  return gwtest::post_inbound(port, id, from, acme_number, body);
}

std::vector<std::string> outbox_lines(const temp_dir& d, const std::string& instance) {
  std::vector<std::string> out;
  std::ifstream in(d.path() / instance / "outbox.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

json::object check(line_client& c, const std::string& to = consumer) {
  return c.call(json::object{{"op", "check"},
                             {"to", to},
                             {"sender", "acme"},
                             {"purpose", "informational"},
                             {"at", "2026-12-02T17:00:00Z"}});
}

bool has_reason(const json::object& resp, std::string_view reason) {
  for (auto& r : resp.at("result").at("reasons").as_array())
    if (r.as_string() == reason) return true;
  return false;
}

TEST(WebhookDaemon, StopFromABareTenDigitNumberDeniesTheCheckOfItsNanpNumber) {
  redis_server r;
  temp_dir d;
  gateway_proc a(d, r, "gwA");
  line_client c(a.api_port);
  ASSERT_TRUE(c.connected()) << a.proc->output();
  // The carrier wrote the sender without a country code, as a NANP national number.
  ASSERT_EQ(post_inbound(a.http_port, "sb-bare", "STOP", "2027621422"), 200) << a.proc->output();
  auto us = check(c, "+12027621422");
  ASSERT_EQ(us["ok"], true) << json::serialize(us);
  EXPECT_EQ(us.at("result").at("decision"), "deny") << json::serialize(us);
  EXPECT_TRUE(has_reason(us, "optout")) << json::serialize(us);
  // The check op reads the same bare digits as the same number.
  EXPECT_TRUE(has_reason(check(c, "2027621422"), "optout"));
  // Not +20 2762 1422 (Egypt), where the opt-out used to land.
  auto eg = check(c, "+2027621422");
  ASSERT_EQ(eg["ok"], true) << json::serialize(eg);
  EXPECT_FALSE(has_reason(eg, "optout")) << json::serialize(eg);
}

TEST(WebhookDaemon, StopThroughGatewayABlocksACheckThroughGatewayBAndIsConfirmedOnce) {
  redis_server r;
  temp_dir d;
  gateway_proc a(d, r, "gwA");
  gateway_proc b(d, r, "gwB");
  line_client cb(b.api_port);
  ASSERT_TRUE(cb.connected()) << b.proc->output();
  auto before = check(cb);
  ASSERT_EQ(before["ok"], true) << json::serialize(before);
  EXPECT_FALSE(has_reason(before, "optout")) << json::serialize(before);

  ASSERT_EQ(post_inbound(a.http_port, "sb-1", "STOP"), 200) << a.proc->output();
  // The very next check through the other gateway sees the opt-out.
  auto after = check(cb);
  EXPECT_EQ(after["result"].at("decision"), "deny") << json::serialize(after);
  EXPECT_TRUE(has_reason(after, "optout")) << json::serialize(after);

  // The same message through B (a carrier retry landing elsewhere) is not applied again.
  EXPECT_EQ(post_inbound(b.http_port, "sb-1", "STOP"), 200);
  // Exactly one confirmation, from either gateway's drainer, into its sandbox outbox.
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i) {
    lines = outbox_lines(d, "gwA");
    auto lb = outbox_lines(d, "gwB");
    lines.insert(lines.end(), lb.begin(), lb.end());
    if (!lines.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(lines.size(), 1u) << a.proc->output() << b.proc->output();
  auto msg = json::parse(lines[0]).as_object();
  EXPECT_EQ(std::string(msg.at("to").as_string()), consumer);
  EXPECT_EQ(std::string(msg.at("from").as_string()), acme_number);
  EXPECT_EQ(std::string(msg.at("body").as_string()),
            "You are unsubscribed from acme. No more messages will be sent. Reply HELP for help.");

  // A second STOP within 24 h: recorded, not confirmed again. The queue is empty once the
  // first reply was sent, and the 200 comes after the (suppressed) enqueue.
  for (int i = 0; i < 400 && r.cli("ZCARD '{sg:in}:q'") != "0"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(post_inbound(b.http_port, "sb-2", "stop"), 200);
  EXPECT_EQ(r.cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(outbox_lines(d, "gwA").size() + outbox_lines(d, "gwB").size(), 1u);
}

TEST(WebhookDaemon, KillNineRightAfterThe200LosesNothing) {
  redis_server r(/*appendonly=*/true);
  temp_dir d;
  gateway_proc a(d, r, "gwA");
  ASSERT_EQ(post_inbound(a.http_port, "sb-k", "Arrêt"), 200) << a.proc->output();
  a.proc->signal(SIGKILL);
  a.proc->wait(std::chrono::seconds(10));
  r.stop();  // Redis restarts too (appendonly): the acknowledged opt-out is on its disk
  r.start();

  a.start(d);
  line_client c(a.api_port);
  ASSERT_TRUE(c.connected()) << a.proc->output();
  json::object lk;
  for (int i = 0; i < 100; ++i) {
    lk = c.call(json::object{{"op", "lookup"}, {"to", consumer}});
    if (lk["ok"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(lk["ok"], true) << json::serialize(lk);
  ASSERT_EQ(lk["optouts"].as_array().size(), 1u) << json::serialize(lk);
  auto& o = lk["optouts"].as_array()[0].as_object();
  EXPECT_EQ(o.at("sender"), "acme");
  EXPECT_EQ(o.at("source"), "sms:sandbox");

  // The evidence that proves it survived too, and the chain is intact.
  a.proc->signal(SIGTERM);
  ASSERT_TRUE(a.proc->wait(std::chrono::seconds(15)));
  std::ifstream kf(d.path() / "gwA" / "evidence.key");
  std::string key;
  std::getline(kf, key);
  auto v = evidence::verify_directory(d.path() / "gwA" / "evidence", key);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->failure) << v->failure->describe();
  std::string all;
  for (auto& e : std::filesystem::directory_iterator(d.path() / "gwA" / "evidence")) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream in(e.path());
    all.append(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(
      all.find(std::string("\"id\":\"") + std::string(o.at("evidence_id").as_string()) + "\""),
      std::string::npos);
  EXPECT_NE(all.find("\"type\":\"inbound\""), std::string::npos);
  // Never two confirmations (at most once across the crash).
  EXPECT_LE(outbox_lines(d, "gwA").size(), 1u);
}

}  // namespace
}  // namespace stopgate::test
