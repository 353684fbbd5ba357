// The SIP gate's transactions and decisions, fed raw request bytes at exact instants.
#include "gateway/dialer/sip/gate.hpp"

#include <gtest/gtest.h>

// Requests are written as designated initializers of request_spec, naming only what differs
// from the defaults; GCC warns about the members left to their default initializers.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <map>
#include <string>

namespace stopgate::gateway::dialer::sip {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const config::settings> gate_settings(std::uint16_t deny_status = 608) {
  auto s = std::make_shared<config::settings>();
  auto& sip = s->dialer.sip;
  sip.deny_status = deny_status;
  sip.sender_header = "X-Stopgate-Sender";
  sip.campaign_header = "X-Stopgate-Campaign";
  sip.strip_prefixes = {"9"};
  sip.check_timeout_ms = 3000;
  config::dialer_sip_sender acme;
  acme.name = "acme";
  acme.sources = {*config::parse_ip_network("192.0.2.0/24")};
  acme.trunk = "sip:trunk.example.com:5060;transport=udp";
  acme.tech = config::voice_tech::manual;
  acme.campaign = "spring";
  config::dialer_sip_sender beta;
  beta.name = "beta";
  beta.sources = {*config::parse_ip_network("198.51.100.9")};
  beta.trunk = "sips:carrier.example.net";
  beta.number = config::dialer_sip_sender::contact_number::e164;
  sip.senders = {acme, beta};
  return s;
}

struct request_spec {
  std::string method = "INVITE";
  std::string uri = "sip:914155550123@gate.example.com";
  std::string branch = "z9hG4bK-call1";
  std::string call_id = "call-1@dialer";
  std::string to_tag;
  std::string extra;        // more header lines, each ending in CRLF
  std::string cseq_method;  // default: method
};

std::string request(const request_spec& r) {
  return r.method + " " + r.uri + " SIP/2.0\r\n" +
         "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=" + r.branch +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:dialer@192.0.2.10>;tag=f1\r\nTo: "
         "<sip:4155550123@gate.example.com>" +
         (r.to_tag.empty() ? "" : ";tag=" + r.to_tag) + "\r\nCall-ID: " + r.call_id +
         "\r\nCSeq: 1 " + (r.cseq_method.empty() ? r.method : r.cseq_method) + "\r\n" + r.extra +
         "Content-Length: 0\r\n\r\n";
}

struct harness {
  gate g{gate_settings(), 42};
  instant now{std::chrono::steady_clock::time_point{} + 1h,
              std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56)};
  peer from{transport::udp, boost::asio::ip::make_address("192.0.2.10"), 5062, 0};
  gate_output out;

  explicit harness(std::uint16_t deny_status = 608) : g(gate_settings(deny_status), 42) {}

  gate_output& feed(const std::string& text) {
    out.clear();
    std::string bytes = text;
    g.on_message(bytes.data(), bytes.size(), from, now, out);
    return out;
  }
  gate_output& answer(std::uint64_t id, const voice_answer& a) {
    out.clear();
    g.on_answer(id, a, now, out);
    return out;
  }
  gate_output& advance(std::chrono::milliseconds d) {
    now.mono += d;
    now.wall += d;
    out.clear();
    g.on_timer(now, out);
    return out;
  }
};

std::string status_line(const std::string& bytes) {
  return bytes.substr(0, bytes.find("\r\n"));
}
std::string header(const std::string& bytes, const std::string& name) {
  auto at = bytes.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "<absent>";
  at += name.size() + 4;
  return bytes.substr(at, bytes.find("\r\n", at) - at);
}

voice_answer allow() {
  voice_answer a;
  a.outcome = decision::allow;
  a.to = "+14155550123";
  a.evidence_id = "gw1-7";
  return a;
}

TEST(SipGate, AnAllowedInviteIsRedirectedToTheSendersTrunk) {
  harness h;
  auto& out = h.feed(request({}));
  EXPECT_TRUE(out.sends.empty());  // nothing until the check answers
  ASSERT_EQ(out.checks.size(), 1u);
  const voice_check& q = out.checks[0].query;
  EXPECT_EQ(q.to, "14155550123");  // the "9" prefix stripped
  EXPECT_EQ(q.sender, "acme");
  EXPECT_EQ(q.campaign, "spring");
  EXPECT_EQ(q.tech, config::voice_tech::manual);
  EXPECT_EQ(q.ref, "call-1@dialer");
  EXPECT_EQ(q.source, check_source::sip);
  auto& done = h.answer(out.checks[0].id, allow());
  ASSERT_EQ(done.sends.size(), 1u);
  const std::string& r = done.sends[0].bytes;
  EXPECT_EQ(status_line(r), "SIP/2.0 302 Moved Temporarily");
  EXPECT_EQ(header(r, "Contact"), "<sip:914155550123@trunk.example.com:5060;transport=udp>");
  EXPECT_EQ(header(r, "Call-ID"), "call-1@dialer");
  EXPECT_EQ(header(r, "CSeq"), "1 INVITE");
  EXPECT_NE(header(r, "To").find(";tag=sg"), std::string::npos);
  EXPECT_EQ(done.sends[0].to.port, 5062);
  EXPECT_EQ(h.g.counters().redirected, 1u);
}

TEST(SipGate, ASenderCanAskForTheE164NumberInTheContact) {
  harness h;
  h.from.addr = boost::asio::ip::make_address("198.51.100.9");
  auto& out = h.feed(request({}));
  ASSERT_EQ(out.checks.size(), 1u);
  EXPECT_EQ(out.checks[0].query.sender, "beta");
  auto& done = h.answer(out.checks[0].id, allow());
  EXPECT_EQ(header(done.sends[0].bytes, "Contact"), "<sips:+14155550123@carrier.example.net>");
}

TEST(SipGate, RetransmissionsGetTheSameAnswerAndNeverASecondCheck) {
  harness h;
  const std::string inv = request({});
  auto id = h.feed(inv).checks.at(0).id;
  // While the check runs: a 100 Trying, no second check.
  auto& during = h.feed(inv);
  EXPECT_TRUE(during.checks.empty());
  ASSERT_EQ(during.sends.size(), 1u);
  EXPECT_EQ(status_line(during.sends[0].bytes), "SIP/2.0 100 Trying");
  const std::string final_bytes = h.answer(id, allow()).sends.at(0).bytes;
  // After the answer: the very same bytes.
  auto& after = h.feed(inv);
  EXPECT_TRUE(after.checks.empty());
  ASSERT_EQ(after.sends.size(), 1u);
  EXPECT_EQ(after.sends[0].bytes, final_bytes);
  EXPECT_EQ(h.g.counters().invites, 1u);
  EXPECT_EQ(h.g.counters().retransmissions, 2u);
  // The ACK ends it; ACK retransmissions and INVITE retransmissions are absorbed for T4.
  EXPECT_TRUE(h.feed(request({.method = "ACK"})).sends.empty());
  EXPECT_TRUE(h.feed(inv).sends.empty());
  EXPECT_TRUE(h.feed(inv).checks.empty());
  h.advance(5001ms);
  EXPECT_EQ(h.g.transactions(), 0u);
}

TEST(SipGate, TheFinalResponseIsRetransmittedOverUdpUntilTheAckWithTimerG) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  const std::string final_bytes = h.answer(id, allow()).sends.at(0).bytes;
  // T1 = 500 ms, doubling up to T2 = 4 s: 0.5, 1.5, 3.5, 7.5, 11.5 ... s after the answer.
  std::vector<int> sent_at;
  for (int ms = 100; ms <= 12000; ms += 100) {
    auto& out = h.advance(100ms);
    for (auto& s : out.sends) {
      EXPECT_EQ(s.bytes, final_bytes);
      sent_at.push_back(ms);
    }
  }
  EXPECT_EQ(sent_at, (std::vector<int>{500, 1500, 3500, 7500, 11500}));
  h.feed(request({.method = "ACK"}));
  EXPECT_TRUE(h.advance(8000ms).sends.empty());
}

TEST(SipGate, WithoutAnAckTheTransactionEndsAfter64T1) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  h.answer(id, allow());
  h.advance(31900ms);
  EXPECT_EQ(h.g.transactions(), 1u);
  h.advance(200ms);
  EXPECT_EQ(h.g.transactions(), 0u);
  EXPECT_EQ(h.g.counters().ack_timeouts, 1u);
}

TEST(SipGate, ASlowCheckGetsA100TryingAfter200Ms) {
  harness h;
  h.feed(request({}));
  EXPECT_TRUE(h.advance(150ms).sends.empty());
  auto& out = h.advance(60ms);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(status_line(out.sends[0].bytes), "SIP/2.0 100 Trying");
}

TEST(SipGate, ADeniedCallGets608WithTheReasonsOr603WhenConfigured) {
  voice_answer deny;
  deny.outcome = decision::deny;
  deny.reasons = {"optout", "state_dnc:TX"};
  for (std::uint16_t status : {608, 603}) {
    harness h(status);
    auto id = h.feed(request({})).checks.at(0).id;
    const std::string r = h.answer(id, deny).sends.at(0).bytes;
    EXPECT_EQ(status_line(r), status == 608 ? "SIP/2.0 608 Rejected" : "SIP/2.0 603 Decline");
    EXPECT_EQ(header(r, "Reason"),
              "SIP;cause=" + std::to_string(status) + ";text=\"optout,state_dnc:TX\"");
    EXPECT_EQ(header(r, "Contact"), "<absent>");
  }
}

TEST(SipGate, AFailClosedAnswerIsADenyEvenIfItSaysAllow) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  voice_answer a = voice_answer::failed("store_unavailable");
  const std::string r = h.answer(id, a).sends.at(0).bytes;
  EXPECT_EQ(status_line(r), "SIP/2.0 608 Rejected");
  EXPECT_EQ(header(r, "Reason"), "SIP;cause=608;text=\"store_unavailable\"");
}

TEST(SipGate, ADeferredCallGets480WithRetryAfterUntilRetryAt) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  voice_answer a;
  a.outcome = decision::defer;
  a.reasons = {"quiet_hours"};
  a.retry_at = h.now.wall + 3600s + 300ms;
  const std::string r = h.answer(id, a).sends.at(0).bytes;
  EXPECT_EQ(status_line(r), "SIP/2.0 480 Temporarily Unavailable");
  EXPECT_EQ(header(r, "Retry-After"), "3601");
  EXPECT_EQ(header(r, "Reason"), "SIP;cause=480;text=\"quiet_hours\"");
  // Beyond retry_after_max_s the delay is capped; without retry_at it is the default.
  harness h2;
  auto id2 = h2.feed(request({})).checks.at(0).id;
  a.retry_at = h2.now.wall + std::chrono::hours(24 * 30);
  EXPECT_EQ(header(h2.answer(id2, a).sends.at(0).bytes, "Retry-After"), "86400");
  harness h3;
  auto id3 = h3.feed(request({})).checks.at(0).id;
  a.retry_at.reset();
  EXPECT_EQ(header(h3.answer(id3, a).sends.at(0).bytes, "Retry-After"), "300");
}

TEST(SipGate, CancelWhileTheCheckRunsEndsTheInviteWith487) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  auto& out = h.feed(request({.method = "CANCEL"}));
  ASSERT_EQ(out.sends.size(), 2u);
  EXPECT_EQ(status_line(out.sends[0].bytes), "SIP/2.0 200 OK");
  EXPECT_EQ(header(out.sends[0].bytes, "CSeq"), "1 CANCEL");
  EXPECT_EQ(status_line(out.sends[1].bytes), "SIP/2.0 487 Request Terminated");
  EXPECT_EQ(header(out.sends[1].bytes, "CSeq"), "1 INVITE");
  // The check's late answer changes nothing.
  EXPECT_TRUE(h.answer(id, allow()).sends.empty());
  EXPECT_EQ(h.g.counters().cancelled, 1u);
  // A CANCEL for no INVITE: 481. A CANCEL after the final response: 200 and nothing else.
  EXPECT_EQ(status_line(
                h.feed(request({.method = "CANCEL", .branch = "z9hG4bK-none"})).sends.at(0).bytes),
            "SIP/2.0 481 Call/Transaction Does Not Exist");
  harness h2;
  auto id2 = h2.feed(request({})).checks.at(0).id;
  h2.answer(id2, allow());
  auto& late = h2.feed(request({.method = "CANCEL"}));
  ASSERT_EQ(late.sends.size(), 1u);
  EXPECT_EQ(status_line(late.sends[0].bytes), "SIP/2.0 200 OK");
}

TEST(SipGate, ACheckThatDoesNotAnswerInTimeIsDenied) {
  harness h;
  auto id = h.feed(request({})).checks.at(0).id;
  h.advance(2900ms);
  auto& out = h.advance(200ms);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(status_line(out.sends[0].bytes), "SIP/2.0 608 Rejected");
  EXPECT_EQ(header(out.sends[0].bytes, "Reason"), "SIP;cause=608;text=\"check_timeout\"");
  EXPECT_TRUE(h.answer(id, allow()).sends.empty());
  EXPECT_EQ(h.g.pending_checks(), 0u);
}

struct refusal_case {
  const char* name;
  request_spec req;
  std::string from;
  std::string status;
  std::string reason;
};

void PrintTo(const refusal_case& c, std::ostream* os) {
  *os << c.name;
}

class SipRefusals : public testing::TestWithParam<refusal_case> {};

TEST_P(SipRefusals, AnsweredWithoutACheck) {
  const auto& c = GetParam();
  harness h;
  if (!c.from.empty()) h.from.addr = boost::asio::ip::make_address(c.from);
  auto& out = h.feed(request(c.req));
  EXPECT_TRUE(out.checks.empty());
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(status_line(out.sends[0].bytes), c.status);
  EXPECT_EQ(header(out.sends[0].bytes, "Reason"), c.reason);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SipRefusals,
    testing::Values(
        refusal_case{"unknown_source",
                     {},
                     "203.0.113.5",
                     "SIP/2.0 403 Forbidden",
                     "SIP;cause=403;text=\"unknown_sender\""},
        refusal_case{"unknown_named_sender",
                     {.extra = "X-Stopgate-Sender: nobody\r\n"},
                     "",
                     "SIP/2.0 403 Forbidden",
                     "SIP;cause=403;text=\"unknown_sender\""},
        refusal_case{"named_sender_from_elsewhere",
                     {.extra = "X-Stopgate-Sender: beta\r\n"},
                     "",
                     "SIP/2.0 403 Forbidden",
                     "SIP;cause=403;text=\"source_not_allowed\""},
        refusal_case{"no_number",
                     {.uri = "sip:alice@gate"},
                     "",
                     "SIP/2.0 484 Address Incomplete",
                     "SIP;cause=484;text=\"no_number\""},
        refusal_case{
            "scheme", {.uri = "mailto:a@b"}, "", "SIP/2.0 416 Unsupported URI Scheme", "<absent>"},
        refusal_case{"require",
                     {.extra = "Require: 100rel\r\n"},
                     "",
                     "SIP/2.0 420 Bad Extension",
                     "<absent>"},
        refusal_case{"two_max_forwards",
                     {.extra = "Max-Forwards: 0\r\n"},
                     "",
                     "SIP/2.0 400 Duplicate Header",
                     "<absent>"},
        refusal_case{"in_dialog",
                     {.to_tag = "t9"},
                     "",
                     "SIP/2.0 481 Call/Transaction Does Not Exist",
                     "<absent>"},
        refusal_case{"bye",
                     {.method = "BYE"},
                     "",
                     "SIP/2.0 481 Call/Transaction Does Not Exist",
                     "<absent>"},
        refusal_case{
            "register", {.method = "REGISTER"}, "", "SIP/2.0 405 Method Not Allowed", "<absent>"},
        refusal_case{"options", {.method = "OPTIONS"}, "", "SIP/2.0 200 OK", "<absent>"},
        refusal_case{"malformed_answerable",
                     {.extra = "Content-Length: 12\r\n"},
                     "",
                     "SIP/2.0 400 Duplicate Header",
                     "<absent>"},
        refusal_case{"cseq_mismatch",
                     {.cseq_method = "BYE"},
                     "",
                     "SIP/2.0 400 CSeq Method Mismatch",
                     "<absent>"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SipGate, MaxForwardsZeroGets483) {
  harness h;
  std::string inv = request({});
  inv.replace(inv.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  auto& out = h.feed(inv);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(status_line(out.sends[0].bytes), "SIP/2.0 483 Too Many Hops");
}

TEST(SipGate, TheSenderHeaderPicksTheSenderAndTheCampaignHeaderTheCampaign) {
  harness h;
  h.from.addr = boost::asio::ip::make_address("198.51.100.9");
  auto& out =
      h.feed(request({.extra = "X-Stopgate-Sender: beta\r\nX-Stopgate-Campaign: fall\r\n"}));
  ASSERT_EQ(out.checks.size(), 1u);
  EXPECT_EQ(out.checks[0].query.sender, "beta");
  EXPECT_EQ(out.checks[0].query.campaign, "fall");
}

TEST(SipGate, UnanswerableGarbageAndStrayResponsesAreDropped) {
  harness h;
  EXPECT_TRUE(h.feed("\x01\x02 not sip at all\r\n\r\n").sends.empty());
  EXPECT_TRUE(h.feed("\r\n\r\n").sends.empty());
  EXPECT_TRUE(
      h.feed("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
             "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
          .sends.empty());
  EXPECT_TRUE(h.feed(request({.method = "ACK", .branch = "z9hG4bK-unknown"})).sends.empty());
  EXPECT_EQ(h.g.counters().dropped, 3u);
}

TEST(SipGate, OverTcpTheFinalResponseIsSentOnceAndTheAckEndsTheTransaction) {
  harness h;
  h.from = {transport::tcp, boost::asio::ip::make_address("192.0.2.10"), 40001, 7};
  auto id = h.feed(request({})).checks.at(0).id;
  auto& done = h.answer(id, allow());
  ASSERT_EQ(done.sends.size(), 1u);
  EXPECT_EQ(done.sends[0].to.connection, 7u);
  EXPECT_TRUE(h.advance(10000ms).sends.empty());
  h.feed(request({.method = "ACK"}));
  h.advance(1ms);
  EXPECT_EQ(h.g.transactions(), 0u);
}

TEST(SipGate, AFullTransactionTableAnswers503) {
  auto s = std::make_shared<config::settings>(*gate_settings());
  s->dialer.sip.max_transactions = 1;
  harness h;
  h.g.update_settings(s);
  h.feed(request({}));
  auto& out = h.feed(request({.branch = "z9hG4bK-call2", .call_id = "call-2@dialer"}));
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(status_line(out.sends[0].bytes), "SIP/2.0 503 Service Unavailable");
  EXPECT_EQ(header(out.sends[0].bytes, "Retry-After"), "1");
}

}  // namespace
}  // namespace stopgate::gateway::dialer::sip
