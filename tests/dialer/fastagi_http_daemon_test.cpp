// The FastAGI server and GET /v1/check end to end: the stopgate daemon and a real
// redis-server, a client replaying Asterisk's res_agi exchange, and plain HTTP requests.
#include "tests/dialer/dialer_test_support.hpp"

namespace stopgate::test::dialer {
namespace {

class DialerDaemon : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new redis_server();
    dir_ = new temp_dir();
    gw_ = new gateway(*dir_, *redis_);
    gw_->optout(optout_number);
    gw_->use_cap(capped_number, "spring");
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete dir_;
    delete redis_;
  }
  static std::map<std::string, std::string> agi(const std::vector<std::string>& args,
                                                const std::string& uniqueid,
                                                int hangup_after = -1) {
    agi_client c(gw_->agi_port);
    EXPECT_TRUE(c.connected());
    c.send(agi_client::environment("check", args, uniqueid));
    return c.run_commands(hangup_after);
  }

  static redis_server* redis_;
  static temp_dir* dir_;
  static gateway* gw_;
};
redis_server* DialerDaemon::redis_ = nullptr;
temp_dir* DialerDaemon::dir_ = nullptr;
gateway* DialerDaemon::gw_ = nullptr;

TEST_F(DialerDaemon, FastAgiSetsTheDecisionVariablesAndCommitsWithTheUniqueid) {
  auto allow = agi({allowed_number, "acme", "marketing", "manual"}, "1700000001.1");
  EXPECT_EQ(allow["STOPGATE_DECISION"], "allow");
  EXPECT_EQ(allow["STOPGATE_REASONS"], "");
  EXPECT_EQ(allow["STOPGATE_RETRY_AT"], "");
  EXPECT_TRUE(allow["STOPGATE_EVIDENCE_ID"].starts_with("gwD-")) << allow["STOPGATE_EVIDENCE_ID"];
  EXPECT_FALSE(allow.contains("<unexpected>"));
  auto recs = gw_->evidence_with("\"ref\":\"fastagi:1700000001.1\"");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["id"].as_string(), allow["STOPGATE_EVIDENCE_ID"]);
  EXPECT_EQ(recs[0]["tech"], "manual");

  auto deny = agi({optout_number, "sender=acme", "tech=manual"}, "1700000001.2");
  EXPECT_EQ(deny["STOPGATE_DECISION"], "deny");
  EXPECT_NE(deny["STOPGATE_REASONS"].find("optout"), std::string::npos);

  auto defer = agi({capped_number, "acme", "marketing", "manual", "spring"}, "1700000001.3");
  EXPECT_EQ(defer["STOPGATE_DECISION"], "defer");
  EXPECT_EQ(defer["STOPGATE_REASONS"], "frequency_cap");
  EXPECT_FALSE(defer["STOPGATE_RETRY_AT"].empty());
}

TEST_F(DialerDaemon, FastAgiHangupMidSessionStopsTheCommandsButKeepsTheRecord) {
  auto vars =
      agi({allowed_number, "acme", "marketing", "manual"}, "1700000002.1", /*hangup_after=*/1);
  EXPECT_EQ(vars.size(), 1u);  // only STOPGATE_DECISION was sent before the HANGUP
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"fastagi:1700000002.1\"").size(), 1u);
}

TEST_F(DialerDaemon, FastAgiMalformedInputIsClosedWithoutAnswer) {
  agi_client c(gw_->agi_port);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_line(), std::nullopt);
  // A request that cannot be checked is denied so that the dialplan blocks it.
  agi_client d(gw_->agi_port);
  d.send(agi_client::environment("check", {}, "1700000003.1"));
  auto vars = d.run_commands();
  EXPECT_EQ(vars["STOPGATE_DECISION"], "deny");
  EXPECT_EQ(vars["STOPGATE_REASONS"], "bad_request");
}

TEST_F(DialerDaemon, FastAgiAnIdleClientIsClosedAfterTheReadTimeout) {
  agi_client c(gw_->agi_port);
  c.send("agi_network: yes\n");
  // read_timeout_ms is 2 s in the test configuration: the server closes, nothing is set.
  EXPECT_EQ(c.read_line(), std::nullopt);
}

TEST_F(DialerDaemon, FastAgiManyConcurrentSessions) {
  constexpr int n = 64;
  std::vector<std::unique_ptr<agi_client>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<agi_client>(gw_->agi_port));
    clients.back()->send(agi_client::environment("check",
                                                 {allowed_number, "acme", "marketing", "manual"},
                                                 "1700000004." + std::to_string(i)));
  }
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(clients[i]->run_commands()["STOPGATE_DECISION"], "allow") << i;
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"fastagi:1700000004.").size(), std::size_t(n));
}

TEST_F(DialerDaemon, HttpCheckAnswersTextOrJsonAndCommits) {
  auto allow =
      http_get(gw_->http_port, "/v1/check?to=%2B12125552671&sender=acme&tech=manual&ref=pbx-1");
  EXPECT_NE(allow.find(" 200 "), std::string::npos) << allow;
  EXPECT_EQ(http_body(allow), "allow");
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"http:pbx-1\"").size(), 1u);
  auto deny =
      http_get(gw_->http_port, "/v1/check?to=" + optout_number + "&sender=acme&tech=manual");
  EXPECT_TRUE(http_body(deny).starts_with("deny:")) << deny;
  EXPECT_NE(http_body(deny).find("optout"), std::string::npos);
  auto defer =
      http_get(gw_->http_port, "/v1/check?to=" + capped_number + "&tech=manual&campaign=spring");
  EXPECT_TRUE(http_body(defer).starts_with("defer:20")) << defer;
  auto js = http_get(gw_->http_port, "/v1/check?to=" + optout_number + "&tech=manual",
                     "Accept: application/json\r\n");
  auto o = json::parse(http_body(js)).as_object();
  EXPECT_EQ(o["decision"], "deny");
  EXPECT_EQ(o["to"].as_string(), optout_number);
  EXPECT_TRUE(o["evidence_id"].as_string().starts_with("gwD-"));
  auto bad = http_get(gw_->http_port, "/v1/check?to=1&color=red");
  EXPECT_NE(bad.find(" 400 "), std::string::npos);
  EXPECT_EQ(http_body(bad), "deny:bad_request");
}

// Last: Redis stopped, every interface fails closed.
TEST_F(DialerDaemon, ZRedisDownEveryPathFailsClosed) {
  redis_->stop();
  auto vars = agi({allowed_number, "acme", "marketing", "manual"}, "1700000009.1");
  EXPECT_EQ(vars["STOPGATE_DECISION"], "deny");
  EXPECT_EQ(vars["STOPGATE_REASONS"], "store_unavailable");
  auto text = http_get(gw_->http_port, "/v1/check?to=" + allowed_number + "&tech=manual");
  EXPECT_EQ(http_body(text), "deny:store_unavailable") << text;
  redis_->start();
}

}  // namespace
}  // namespace stopgate::test::dialer
