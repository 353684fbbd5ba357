// [dialer.fastagi] and [dialer.sip]: defaults (both off), typed values, and every problem
// reported with its key path.
#include "config/load.hpp"
#include "tests/config/config_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stopgate::config {
namespace {

using test::k_minimal;
using test::load_bad;
using test::load_ok;
using ::testing::HasSubstr;

TEST(DialerConfig, OffByDefault) {
  auto s = load_ok(k_minimal);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->dialer.fastagi.listen);
  EXPECT_FALSE(s->dialer.sip.listen);
  EXPECT_EQ(s->dialer.sip.deny_status, 608);
  EXPECT_EQ(s->dialer.fastagi.script, "check");
  EXPECT_EQ(s->dialer.sip.t1_ms, 500u);
}

TEST(DialerConfig, ReadsEveryKeyIntoTypedValues) {
  auto s = load_ok(k_minimal + R"(
[dialer.fastagi]
listen = "0.0.0.0:4573"
script = "/stopgate/check"
read_timeout_ms = 1500
check_timeout_ms = 900
max_connections = 50
max_line_bytes = 2048
sender = "acme"
purpose = "informational"
tech = "manual"
campaign = "spring"
[dialer.sip]
listen = "127.0.0.1:5070"
transports = ["udp"]
deny_status = 603
strip_prefixes = ["9", "*67"]
sender_header = "X-Stopgate-Sender"
campaign_header = ""
check_timeout_ms = 2000
retry_after_default_s = 600
retry_after_max_s = 3600
t1_ms = 250
t2_ms = 2000
t4_ms = 2500
max_message_bytes = 4096
max_transactions = 5000
max_connections = 10
tcp_idle_timeout_ms = 5000
[dialer.sip.senders.acme]
sources = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]
trunk = "sip:trunk.example.com:5060;transport=tcp"
contact_number = "e164"
purpose = "marketing"
tech = "prerecorded"
campaign = "fall"
)");
  ASSERT_TRUE(s);
  const auto& f = s->dialer.fastagi;
  EXPECT_EQ(f.listen->to_string(), "0.0.0.0:4573");
  EXPECT_EQ(f.script, "stopgate/check");
  EXPECT_EQ(f.read_timeout_ms, 1500u);
  EXPECT_EQ(f.defaults.sender, "acme");
  EXPECT_EQ(f.defaults.call_purpose, purpose::informational);
  EXPECT_EQ(f.defaults.tech, voice_tech::manual);
  const auto& sip = s->dialer.sip;
  EXPECT_TRUE(sip.udp);
  EXPECT_FALSE(sip.tcp);
  EXPECT_EQ(sip.deny_status, 603);
  EXPECT_EQ(sip.strip_prefixes, (std::vector<std::string>{"9", "*67"}));
  ASSERT_EQ(sip.senders.size(), 1u);
  const auto& row = sip.senders[0];
  EXPECT_EQ(row.name, "acme");
  ASSERT_EQ(row.sources.size(), 3u);
  const std::uint8_t inside[4] = {10, 20, 30, 40}, outside[4] = {11, 0, 0, 1},
                     host[4] = {192, 0, 2, 7};
  EXPECT_TRUE(row.sources[0].contains(inside, true));
  EXPECT_FALSE(row.sources[0].contains(outside, true));
  EXPECT_TRUE(row.sources[1].contains(host, true));
  EXPECT_EQ(row.trunk, "sip:trunk.example.com:5060;transport=tcp");
  EXPECT_EQ(row.number, dialer_sip_sender::contact_number::e164);
  EXPECT_EQ(row.tech, voice_tech::prerecorded);
  EXPECT_EQ(row.campaign, "fall");
  EXPECT_EQ(sip.sender("acme"), &row);
}

TEST(DialerConfig, IpNetworksMatchMappedAddressesAndPrefixes) {
  auto n = parse_ip_network("192.0.2.0/25");
  ASSERT_TRUE(n);
  const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 100};
  const std::uint8_t mapped_out[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 200};
  EXPECT_TRUE(n->contains(mapped, false));
  EXPECT_FALSE(n->contains(mapped_out, false));
  EXPECT_FALSE(parse_ip_network("192.0.2.0/33"));
  EXPECT_FALSE(parse_ip_network("host.example.com"));
  EXPECT_FALSE(parse_ip_network("10.0.0.0/"));
  EXPECT_TRUE(parse_ip_network("::/0"));
}

TEST(DialerConfig, EveryProblemNamesItsKeyPath) {
  std::string r = load_bad(k_minimal + R"(
[dialer.fastagi]
listen = "nowhere"
script = "bad script"
read_timeout_ms = 5
tech = "robot"
sender = "ghost"
colour = "red"
[dialer.sip]
listen = "127.0.0.1:5070"
transports = ["udp", "sctp"]
deny_status = 604
strip_prefixes = ["9a"]
sender_header = "X Sender"
t1_ms = 5000
t2_ms = 1000
[dialer.sip.senders.acme]
sources = ["10.0.0.0/40"]
trunk = "sip:user@trunk.example.com"
contact_number = "national"
[dialer.sip.senders.ghost]
trunk = "sip:trunk.example.com"
)");
  EXPECT_THAT(r, HasSubstr("dialer.fastagi.listen: must be \"HOST:PORT\""));
  EXPECT_THAT(r, HasSubstr("dialer.fastagi.script: must be a path"));
  EXPECT_THAT(r, HasSubstr("dialer.fastagi.read_timeout_ms: must be an integer in 100..600000"));
  EXPECT_THAT(r, HasSubstr("dialer.fastagi.tech: must be one of manual, atds or prerecorded"));
  EXPECT_THAT(r, HasSubstr("dialer.fastagi.colour: unknown key"));
  EXPECT_THAT(r, HasSubstr("dialer.sip.transports: \"sctp\" is not udp or tcp"));
  EXPECT_THAT(
      r, HasSubstr("dialer.sip.deny_status: must be 608 (Rejected, RFC 8688) or 603 (Decline)"));
  EXPECT_THAT(r, HasSubstr("dialer.sip.strip_prefixes: \"9a\" must be 1 to 16 of 0-9 + * #"));
  EXPECT_THAT(r, HasSubstr("dialer.sip.sender_header: must be a header name"));
  EXPECT_THAT(
      r,
      HasSubstr("dialer.sip.senders.acme.sources: \"10.0.0.0/40\" is not an address or network"));
  EXPECT_THAT(r, HasSubstr("dialer.sip.senders.acme.trunk: must be \"sip:HOST[:PORT][;params]\""));
  EXPECT_THAT(r,
              HasSubstr("dialer.sip.senders.acme.contact_number: must be one of dialed or e164"));
  EXPECT_THAT(r, HasSubstr("dialer.sip.t2_ms: must be >= dialer.sip.t1_ms"));
  // Cross-field rules come after the tables read cleanly; fix the rest to see them.
  std::string c = load_bad(k_minimal + R"(
[api]
listen = "127.0.0.1:7600"
[dialer.fastagi]
listen = "127.0.0.1:7600"
sender = "ghost"
[dialer.sip]
listen = "127.0.0.1:5070"
[dialer.sip.senders.ghost]
trunk = "sip:trunk.example.com"
)");
  EXPECT_THAT(c, HasSubstr("dialer.fastagi.sender: \"ghost\" is not a configured sender"));
  EXPECT_THAT(c, HasSubstr("dialer.sip.senders.ghost: names no configured sender"));
  EXPECT_THAT(
      c,
      HasSubstr(
          "dialer.sip.senders.ghost.sources: is required when dialer.sip.sender_header is \"\""));
  EXPECT_THAT(c, HasSubstr("dialer.fastagi.listen: same address as api.listen (127.0.0.1:7600)"));
}

TEST(DialerConfig, ASipListenerNeedsASenderAndATrunk) {
  std::string r = load_bad(k_minimal + R"(
[dialer.sip]
listen = "127.0.0.1:5070"
)");
  EXPECT_THAT(r, HasSubstr("dialer.sip.senders: at least one sender is required"));
  std::string t = load_bad(k_minimal + R"(
[dialer.sip.senders.acme]
sources = ["127.0.0.1"]
)");
  EXPECT_THAT(t, HasSubstr("dialer.sip.senders.acme.trunk: is required"));
}

}  // namespace
}  // namespace stopgate::config
