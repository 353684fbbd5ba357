// The SIP gate end to end: the stopgate daemon and a real redis-server, SIPp as the dialer and
// as the carrier, and Kamailio as the proxy in front (contrib/kamailio/kamailio.cfg).
#include "tests/dialer/dialer_test_support.hpp"

#include <csignal>

namespace stopgate::test::dialer {
namespace {

// One gateway for the suite; each test uses its own numbers and campaigns.
class SipSipp : public testing::Test {
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
  static std::string target() { return "127.0.0.1:" + std::to_string(gw_->sip_port); }
  /// The decision records of the call with this Call-ID.
  static std::vector<json::object> decisions(const std::string& call_id) {
    std::vector<json::object> out;
    for (auto& r : gw_->evidence_with("\"ref\":\"sip:" + call_id + "\""))
      if (r["type"] == "decision") out.push_back(r);
    return out;
  }

  static redis_server* redis_;
  static temp_dir* dir_;
  static gateway* gw_;
};
redis_server* SipSipp::redis_ = nullptr;
temp_dir* SipSipp::dir_ = nullptr;
gateway* SipSipp::gw_ = nullptr;

TEST_F(SipSipp, AnAllowedNumberFollowsThe302ToTheCarrier) {
  auto carrier = start_carrier(*dir_, gw_->carrier_port);
  const int port = free_port();
  auto [code, log] = run_sipp(*dir_, "gate_allow.xml", target(), port,
                              {"-s", allowed_number, "-cid_str", "allow-%u-%p@dialer"});
  EXPECT_EQ(code, 0) << log;
  // The carrier got the call at the number dialled, answered it and saw it hung up.
  EXPECT_EQ(carrier->wait(std::chrono::seconds(20)), 0) << carrier->output();
  auto recs = gw_->evidence_with("\"ref\":\"sip:allow-");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["decision"], "allow");
  EXPECT_EQ(recs[0]["to"].as_string(), allowed_number);
  EXPECT_EQ(recs[0]["channel"], "voice");
  EXPECT_EQ(recs[0]["tech"], "manual");
  // Counted in /metrics.
  EXPECT_NE(http_get(gw_->http_port, "/metrics")
                .find("stopgate_dialer_sip_responses_total{outcome=\"redirected\"} 1\n"),
            std::string::npos);
}

TEST_F(SipSipp, AnOptedOutNumberGets608WithItsReasons) {
  auto [code, log] = run_sipp(*dir_, "gate_deny.xml", target(), free_port(),
                              {"-s", optout_number, "-cid_str", "deny-%u-%p@dialer"});
  EXPECT_EQ(code, 0) << log;
  auto recs = gw_->evidence_with("\"ref\":\"sip:deny-");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["decision"], "deny");
}

TEST_F(SipSipp, OverTcpTheSameAnswersOnTheSameConnection) {
  auto [code, log] = run_sipp(*dir_, "gate_deny.xml", target(), free_port(),
                              {"-t", "t1", "-s", optout_number, "-cid_str", "tcp-%u-%p@dialer"});
  EXPECT_EQ(code, 0) << log;
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"sip:tcp-").size(), 1u);
}

TEST_F(SipSipp, ACappedNumberGets480WithRetryAfter) {
  auto [code, log] = run_sipp(*dir_, "gate_defer.xml", target(), free_port(),
                              {"-s", capped_number, "-cid_str", "defer-%u-%p@dialer"});
  EXPECT_EQ(code, 0) << log;
  auto recs = gw_->evidence_with("\"ref\":\"sip:defer-");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["decision"], "defer");
  EXPECT_TRUE(recs[0].contains("retry_at"));
}

TEST_F(SipSipp, ThroughKamailioAllowedDeniedAndDeferredCalls) {
  const int kam_port = free_port();
  temp_dir run;
  process kamailio(
      {installed("kamailio"), "-f",
       std::string(STOPGATE_SOURCE_DIR) + "/contrib/kamailio/kamailio.cfg", "-A",
       "STOPGATE_URI=\"sip:127.0.0.1:" + std::to_string(gw_->sip_port) + "\"", "-l",
       "udp:127.0.0.1:" + std::to_string(kam_port), "-DD", "-E", "-Y", run.path().string(), "-P",
       (run.path() / "kamailio.pid").string(), "-m", "32", "-M", "4"},
      dir_->path() / "kamailio.log");
  const std::string proxy = "127.0.0.1:" + std::to_string(kam_port);
  // Kamailio answers OPTIONS once it is up.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    auto [c, out] =
        run_sipp(*dir_, "options.xml", proxy, free_port(), {"-s", "ping", "-timeout", "1s"});
    up = c == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(up) << kamailio.output();

  auto carrier = start_carrier(*dir_, gw_->carrier_port);
  auto [a, alog] = run_sipp(*dir_, "proxy_call.xml", proxy, free_port(),
                            {"-s", allowed_number, "-cid_str", "kam-allow-%u-%p@dialer"});
  EXPECT_EQ(a, 0) << alog << kamailio.output();
  EXPECT_EQ(carrier->wait(std::chrono::seconds(20)), 0) << carrier->output();
  auto [d, dlog] = run_sipp(*dir_, "proxy_deny.xml", proxy, free_port(),
                            {"-s", optout_number, "-cid_str", "kam-deny-%u-%p@dialer"});
  EXPECT_EQ(d, 0) << dlog;
  auto [f, flog] = run_sipp(*dir_, "proxy_defer.xml", proxy, free_port(),
                            {"-s", capped_number, "-cid_str", "kam-defer-%u-%p@dialer"});
  EXPECT_EQ(f, 0) << flog;
  // Each call is one decision, recorded under the Call-ID Kamailio kept.
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"sip:kam-allow-").size(), 1u);
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"sip:kam-deny-").size(), 1u);
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"sip:kam-defer-").size(), 1u);
  kamailio.signal(SIGTERM);
  kamailio.wait(std::chrono::seconds(5));
}

// Redis stopped outright: a call fails closed with 608 and its denial is recorded.
TEST_F(SipSipp, ZRedisDownFailsClosed) {
  redis_->stop();
  auto [f, flog] = run_sipp(*dir_, "gate_fail_closed.xml", target(), free_port(),
                            {"-s", allowed_number, "-cid_str", "down-%u-%p@dialer"});
  EXPECT_EQ(f, 0) << flog;
  auto recs = gw_->evidence_with("\"ref\":\"sip:down-");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["decision"], "deny");
  redis_->start();
}

// Redis held (SIGSTOP) with a Redis timeout longer than a call takes, so a check cannot
// finish until the test lets it: what the gate does while a check runs is then certain.
class SipSippHeld : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new redis_server();
    dir_ = new temp_dir();
    gw_ = new gateway(*dir_, *redis_, "", "timeout_ms = 20000\n");
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete dir_;
    delete redis_;
  }
  static std::string target() { return "127.0.0.1:" + std::to_string(gw_->sip_port); }
  static redis_server* redis_;
  static temp_dir* dir_;
  static gateway* gw_;
};
redis_server* SipSippHeld::redis_ = nullptr;
temp_dir* SipSippHeld::dir_ = nullptr;
gateway* SipSippHeld::gw_ = nullptr;

// 100 Trying after 200 ms, then CANCEL: 200 OK for it and 487 for the INVITE.
TEST_F(SipSippHeld, CancelWhileTheCheckRunsEndsTheInviteWith487) {
  redis_->pause();
  auto [c, clog] = run_sipp(*dir_, "gate_cancel.xml", target(), free_port(),
                            {"-s", allowed_number, "-cid_str", "cancel-%u-%p@dialer"});
  redis_->resume();
  EXPECT_EQ(c, 0) << clog;
}

// The same INVITE twice while the check runs: answered from the transaction, checked once.
TEST_F(SipSippHeld, AUdpRetransmissionIsAnsweredFromTheTransactionWithOneDecision) {
  redis_->pause();
  const auto trace = dir_->path() / "retransmit_messages.log";
  process sipp({installed("sipp"),
                "-sf",
                sipp_dir() + "gate_retransmit.xml",
                target(),
                "-i",
                "127.0.0.1",
                "-p",
                std::to_string(free_port()),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "25s",
                "-timeout_error",
                "-s",
                allowed_number,
                "-cid_str",
                "retrans-%u-%p@dialer",
                "-trace_msg",
                "-message_file",
                trace.string()},
               dir_->path() / "retransmit.log");
  // Redis comes back once the gate has answered the retransmission with a 100 Trying.
  auto trying_received = [&] {
    std::ifstream in(trace);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("SIP/2.0 100 Trying") != std::string::npos;
  };
  for (int i = 0; i < 300 && !trying_received() && sipp.running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(trying_received());
  redis_->resume();
  EXPECT_EQ(sipp.wait(std::chrono::seconds(25)), 0) << sipp.output();
  EXPECT_EQ(gw_->evidence_with("\"ref\":\"sip:retrans-").size(), 1u);
}

}  // namespace
}  // namespace stopgate::test::dialer
