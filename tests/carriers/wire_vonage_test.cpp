// Vonage SMS API wire format against carriers.md section 4.
#include "carriers/vonage/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace vg = stopgate::carriers::vonage;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.type = stopgate::config::carrier_type::vonage;
  s.base_url = "https://rest.nexmo.com";
  stopgate::config::vonage_credentials cr;
  cr.api_key = "abcd1234";
  cr.api_secret = stopgate::config::secret::from_inline("s3cr3t&=");
  s.credentials = cr;
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }

std::string submit(const std::string& status, const std::string& extra) {
  return R"({"message-count":"1","messages":[{"to":"14155552671",)" + extra + R"("status":")" +
         status + R"("}]})";
}

}  // namespace

TEST(WireVonage, BuildSendExactBytes) {
  c::outbound_message msg{"+14155552671", "+14155550234", "50% off today", "m-1",
                          "https://gw.example.com/v1/status/vonage"};
  c::http_call call = vg::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://rest.nexmo.com/sms/json");
  EXPECT_EQ(call.content_type, "application/x-www-form-urlencoded");
  EXPECT_TRUE(call.headers.empty());  // credentials travel in the body
  EXPECT_EQ(call.body,
            "api_key=abcd1234&api_secret=s3cr3t%26%3D&from=14155550234&to=14155552671"
            "&text=50%25+off+today&client-ref=m-1"
            "&callback=https%3A%2F%2Fgw.example.com%2Fv1%2Fstatus%2Fvonage");
}

TEST(WireVonage, BuildSendUnicodeAndAlphanumericSender) {
  c::outbound_message msg{"+447700900123", "ACME", "caf\xC3\xA9", "m-2", ""};
  c::http_call call = vg::build_send(settings(), msg);
  EXPECT_EQ(call.body,
            "api_key=abcd1234&api_secret=s3cr3t%26%3D&from=ACME&to=447700900123"
            "&text=caf%C3%A9&type=unicode&client-ref=m-2");
}

TEST(WireVonage, Accepted) {
  auto out = vg::parse_send_response(
      200, {},
      submit("0", R"("message-id":"0A0000000123ABCD1","remaining-balance":"3.14159265",)"
                  R"("message-price":"0.03330000","network":"12345",)"),
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "0A0000000123ABCD1");
  EXPECT_EQ(out.carrier_status, "0");
}

TEST(WireVonage, SubmitStatusClasses) {
  for (const char* code : {"1", "5", "10"}) {
    auto out = vg::parse_send_response(200, {{"Retry-After", "2"}},
                                       submit(code, R"("error-text":"Throttled",)"), now);
    EXPECT_FALSE(out.accepted);
    EXPECT_EQ(out.failure, failure_class::retryable) << code;
    EXPECT_EQ(out.error_code, code);
    EXPECT_EQ(out.error_message, "Throttled");
    EXPECT_EQ(out.retry_after, seconds(2));
  }
  auto out = vg::parse_send_response(200, {}, submit("7", R"("error-text":"Number barred",)"), now);
  EXPECT_EQ(out.failure, failure_class::recipient_opted_out);
  EXPECT_EQ(out.error_code, "7");
  for (const char* code : {"2", "3", "4", "6", "8", "9", "15", "29"})
    EXPECT_EQ(vg::parse_send_response(200, {}, submit(code, ""), now).failure,
              failure_class::permanent)
        << code;
}

TEST(WireVonage, HttpErrorsAndGarbage) {
  EXPECT_EQ(vg::parse_send_response(500, {}, "", now).failure, failure_class::retryable);
  EXPECT_EQ(vg::parse_send_response(429, {}, "", now).failure, failure_class::retryable);
  EXPECT_EQ(vg::parse_send_response(401, {}, "{}", now).failure, failure_class::permanent);
  auto out = vg::parse_send_response(200, {}, R"({"messages":[]})", now);
  EXPECT_FALSE(out.accepted);
  EXPECT_EQ(out.error_code, "bad_response");
  out = vg::parse_send_response(200, {}, submit("0", ""), now);  // accepted without an id
  EXPECT_EQ(out.error_code, "bad_response");
}

TEST(WireVonage, InboundGetQuery) {
  auto m = vg::parse_inbound(
      "", "",
      "msisdn=14155552671&to=14155550234&messageId=0A0000001234567B&text=Stop+texting+me"
      "&type=text&keyword=STOP&api-key=abcd1234&message-timestamp=2026-05-01+12%3A00%3A00");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "vonage");
  EXPECT_EQ(m->carrier_message_id, "0A0000001234567B");
  EXPECT_EQ(m->from, "14155552671");  // as sent: the gateway reads it
  EXPECT_EQ(m->to, "14155550234");    // as sent: the gateway reads it
  EXPECT_EQ(m->body, "Stop texting me");
  EXPECT_EQ(m->carrier_intent, "STOP");
}

TEST(WireVonage, InboundFormAndJson) {
  auto m = vg::parse_inbound("application/x-www-form-urlencoded",
                             "msisdn=447700900001&to=447700900000&messageId=AB1&text=STOP", "");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from, "447700900001");  // as sent: the gateway reads it
  m = vg::parse_inbound("application/json",
                        R"({"msisdn":"447700900001","to":"447700900000","messageId":"AB2",)"
                        R"("text":"END","type":"text","keyword":"END","timestamp":1777636800,)"
                        R"("concat":"false"})",
                        "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier_message_id, "AB2");
  EXPECT_EQ(m->to, "447700900000");  // as sent: the gateway reads it
  EXPECT_EQ(m->body, "END");
  EXPECT_EQ(err(vg::parse_inbound("application/json", "[]", "").error()),
            wire_errc::malformed_body);
  EXPECT_EQ(err(vg::parse_inbound("", "", "to=1&messageId=2").error()), wire_errc::missing_from);
}

TEST(WireVonage, DeliveryReceipts) {
  // msisdn is the recipient of our message, to is our sender.
  auto u = vg::parse_status("", "",
                            "msisdn=14155552671&to=14155550234&network-code=310260"
                            "&messageId=0A0000000123ABCD1&price=0.00570000&status=delivered"
                            "&scts=2605011200&err-code=0&client-ref=m-1"
                            "&message-timestamp=2026-05-01+12%3A00%3A05");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->carrier_message_id, "0A0000000123ABCD1");
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->to, "14155552671");    // as sent: the gateway reads it
  EXPECT_EQ(u->from, "14155550234");  // as sent: the gateway reads it
  EXPECT_FALSE(u->failure);

  u = vg::parse_status("application/x-www-form-urlencoded",
                       "msisdn=14155552671&to=14155550234&messageId=X&status=failed&err-code=9", "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "undelivered");
  EXPECT_EQ(u->failure, failure_class::recipient_opted_out);
  u = vg::parse_status("", "", "messageId=X&status=rejected&err-code=9");
  EXPECT_EQ(u->status, "failed");
  EXPECT_EQ(u->failure, failure_class::recipient_opted_out);
  u = vg::parse_status("", "", "messageId=X&status=expired&err-code=1");
  EXPECT_EQ(u->failure, failure_class::permanent);
  EXPECT_EQ(err(vg::parse_status("", "", "messageId=X").error()), wire_errc::missing_status);
  EXPECT_EQ(vg::normalise_status("accepted"), "sent");
  EXPECT_EQ(vg::normalise_status("buffered"), "sending");
  EXPECT_EQ(vg::normalise_status("unknown"), "unknown");
}
