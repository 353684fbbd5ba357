// The SIP message parser, the Request-URI number and response building, fed raw bytes.
#include "gateway/dialer/sip/message.hpp"
#include "gateway/dialer/sip/response.hpp"
#include "gateway/dialer/sip/uri.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopgate::gateway::dialer::sip {
namespace {

struct parsed {
  std::string bytes;
  message m;
  parse_error error;
  explicit parsed(std::string text) : bytes(std::move(text)) {
    error = m.parse(bytes.data(), bytes.size());
  }
};

const std::string invite =
    "INVITE sip:+14155550123@gate.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n"
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKabc, SIP/2.0/TCP "
    "[2001:db8::1]:5070;branch=z9hG4bKdef\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:+14155550123@gate.example.com>\r\n"
    "From: \"Dialer; One\" <sip:dialer@192.0.2.10>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:dialer@192.0.2.10:5062>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

TEST(SipMessage, ParsesAnInviteIntoItsFields) {
  parsed p(invite);
  ASSERT_EQ(p.error, parse_error::none);
  const message& m = p.m;
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.uri(), "sip:+14155550123@gate.example.com;user=phone");
  ASSERT_EQ(m.vias().size(), 3u);
  EXPECT_EQ(m.vias()[0].transport, "UDP");
  EXPECT_EQ(m.vias()[0].host, "192.0.2.10");
  EXPECT_EQ(m.vias()[0].port, 5062);
  EXPECT_EQ(m.vias()[0].branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(m.vias()[0].rport);
  EXPECT_EQ(m.vias()[1].host, "proxy.example.com");
  EXPECT_EQ(m.vias()[1].port, 0);
  EXPECT_EQ(m.vias()[2].host, "2001:db8::1");
  EXPECT_EQ(m.vias()[2].port, 5070);
  EXPECT_EQ(m.from_tag(), "1928301774");
  EXPECT_EQ(m.to_tag(), "");
  EXPECT_EQ(m.call_id(), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.cseq().number, 314159u);
  EXPECT_EQ(m.cseq().method, "INVITE");
  EXPECT_EQ(m.max_forwards(), 70u);
  EXPECT_EQ(m.body(), "v=0\n");
  EXPECT_EQ(m.header_value("content-type"), "application/sdp");
}

TEST(SipMessage, CompactFormsFoldedLinesAndBareLineFeeds) {
  parsed p(
      "OPTIONS sip:gate.example.com SIP/2.0\n"
      "v: SIP/2.0/UDP 192.0.2.10:5062\n"
      " ;branch=z9hG4bKfold\n"
      "f: <sip:a@b>;tag=x\n"
      "t: sip:gate.example.com\n"
      "i: call-1\n"
      "CSeq: 7 OPTIONS\n"
      "l: 0\n"
      "\n");
  ASSERT_EQ(p.error, parse_error::none);
  EXPECT_EQ(p.m.vias().front().branch, "z9hG4bKfold");
  EXPECT_EQ(p.m.call_id(), "call-1");
  EXPECT_EQ(p.m.content_length(), 0u);
}

struct bad_case {
  const char* name;
  std::string text;
  parse_error error;
  bool answerable;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.name;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

class SipMalformed : public testing::TestWithParam<bad_case> {};

TEST_P(SipMalformed, ReportsTheProblemAndWhetherA400CanBeBuilt) {
  const auto& c = GetParam();
  parsed p(c.text);
  EXPECT_EQ(p.error, c.error) << reason_phrase(p.error);
  EXPECT_EQ(p.m.answerable(), c.answerable);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SipMalformed,
    testing::Values(
        bad_case{"only_crlf", "\r\n\r\n", parse_error::empty, false},
        bad_case{"garbage", "hello\r\n\r\n", parse_error::bad_start_line, false},
        bad_case{"no_header_end",
                 "INVITE sip:1@a SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n",
                 parse_error::bad_header, false},
        bad_case{"version", replace(invite, "SIP/2.0\r\nVia", "SIP/3.0\r\nVia"),
                 parse_error::bad_version, false},
        bad_case{"missing_call_id",
                 replace(invite, "Call-ID: a84b4c76e66710@pc33.example.com\r\n", ""),
                 parse_error::missing_call_id, false},
        bad_case{"bad_max_forwards", replace(invite, "Max-Forwards: 70", "Max-Forwards: lots"),
                 parse_error::bad_max_forwards, true},
        bad_case{"cseq_mismatch", replace(invite, "CSeq: 314159 INVITE", "CSeq: 314159 BYE"),
                 parse_error::cseq_method_mismatch, true},
        bad_case{"cseq_not_a_number", replace(invite, "CSeq: 314159 INVITE", "CSeq: x INVITE"),
                 parse_error::bad_cseq, false},
        bad_case{"top_via",
                 replace(invite, "SIP/2.0/UDP 192.0.2.10:5062", "SIP/2.0/UDP 192.0.2.10:99999"),
                 parse_error::bad_via, false},
        bad_case{"lower_via",
                 replace(invite, "SIP/2.0/TCP [2001:db8::1]:5070", "SIP/2.0/TCP [2001:db8::1"),
                 parse_error::bad_via, false},
        bad_case{"content_length_past_end",
                 replace(invite, "Content-Length: 4", "Content-Length: 400"),
                 parse_error::bad_content_length, true},
        bad_case{"duplicate_call_id", replace(invite, "CSeq:", "Call-ID: other\r\nCSeq:"),
                 parse_error::duplicate_header, true},
        bad_case{"header_without_colon", replace(invite, "Contact:", "Contact"),
                 parse_error::bad_header, true},
        bad_case{"unbalanced_from", replace(invite, "\"Dialer; One\"", "\"Dialer; One"),
                 parse_error::bad_from, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SipMessage, AResponseIsParsedAsOne) {
  parsed p(
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
  ASSERT_EQ(p.error, parse_error::none);
  EXPECT_FALSE(p.m.is_request());
  EXPECT_EQ(p.m.status(), 180);
  EXPECT_EQ(p.m.to_tag(), "2");
}

struct number_case {
  std::string uri;
  std::vector<std::string> strip;
  std::string number;
};

TEST(SipUri, TheDialledNumberOfARequestUri) {
  const std::vector<number_case> cases = {
      {"sip:+14155550123@gate", {}, "+14155550123"},
      {"sip:%2B1-415-555-0123;npdi@gate;user=phone", {}, "+14155550123"},
      {"tel:+1-415-555-0123;phone-context=example.com", {}, "+14155550123"},
      {"sips:14155550123:secret@gate", {}, "14155550123"},
      {"sip:914155550123@gate", {"9", "91"}, "4155550123"},
      {"sip:9@gate", {"9"}, "9"},  // a prefix never leaves nothing to dial
      {"sip:alice@gate", {}, ""},
      {"sip:gate.example.com", {}, ""},
      {"sip:41%2@gate", {}, ""},
      {"mailto:a@b", {}, ""},
  };
  for (const auto& c : cases) EXPECT_EQ(dialed_number(c.uri, c.strip).number, c.number) << c.uri;
  EXPECT_EQ(dialed_number("sip:%2B14155550123;npdi@gate", {}).user, "%2B14155550123;npdi");
}

TEST(SipResponse, EchoesTheRequestAndFillsReceivedAndRport) {
  parsed p(invite);
  ASSERT_EQ(p.error, parse_error::none);
  peer from{transport::udp, boost::asio::ip::make_address("198.51.100.7"), 40000, 0};
  std::string echo = echo_headers(p.m, from, "abc");
  EXPECT_EQ(echo,
            "Via: SIP/2.0/UDP "
            "192.0.2.10:5062;branch=z9hG4bK776asdhds;rport=40000;received=198.51.100.7\r\n"
            "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKabc\r\n"
            "Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKdef\r\n"
            "From: \"Dialer; One\" <sip:dialer@192.0.2.10>;tag=1928301774\r\n"
            "To: <sip:+14155550123@gate.example.com>;tag=abc\r\n"
            "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
            "CSeq: 314159 INVITE\r\n");
  // rport: back to the source port; without it, to the Via's port.
  EXPECT_EQ(response_destination(p.m.vias()[0], from).port, 40000);
  EXPECT_EQ(response_destination(p.m.vias()[1], from).port, 5060);
  response_extras x;
  x.retry_after = 30;
  x.reason = "SIP;cause=480;text=\"quiet_hours\"";
  EXPECT_EQ(
      render_response(480, "Temporarily Unavailable", "E\r\n", x),
      "SIP/2.0 480 Temporarily Unavailable\r\nE\r\nReason: SIP;cause=480;text=\"quiet_hours\"\r\n"
      "Retry-After: 30\r\nServer: stopgate\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace stopgate::gateway::dialer::sip
