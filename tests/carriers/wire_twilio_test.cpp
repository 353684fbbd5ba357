// Twilio wire format against carriers.md section 1: request bytes written by hand, answers
// and webhooks as Twilio sends them.
#include "carriers/twilio/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace tw = stopgate::carriers::twilio;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.name = "twilio";
  s.type = stopgate::config::carrier_type::twilio;
  s.base_url = "https://api.twilio.com";
  s.credentials = stopgate::config::twilio_credentials{
      "AC0123456789abcdef0123456789abcdef", stopgate::config::secret::from_inline("tw-token")};
  return s;
}

c::outbound_message message() {
  return {"+14155552671", "+14155550234", "Hi & welcome! Reply STOP to opt out.", "m-1", ""};
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }

}  // namespace

TEST(WireTwilio, BuildSendExactBytes) {
  auto msg = message();
  msg.status_callback_url = "https://gw.example.com/v1/status/twilio?x=1";
  c::http_call call = tw::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/"
            "Messages.json");
  EXPECT_EQ(call.content_type, "application/x-www-form-urlencoded");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].first, "Authorization");
  EXPECT_EQ(call.headers[0].second,
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0dy10b2tlbg==");
  EXPECT_EQ(call.body,
            "To=%2B14155552671&From=%2B14155550234"
            "&Body=Hi+%26+welcome%21+Reply+STOP+to+opt+out."
            "&StatusCallback=https%3A%2F%2Fgw.example.com%2Fv1%2Fstatus%2Ftwilio%3Fx%3D1");
}

TEST(WireTwilio, BuildSendOmitsEmptyCallbackAndEncodesUtf8) {
  auto msg = message();
  msg.body = "Arr\xC3\xAAt";
  auto s = settings();
  s.base_url = "http://127.0.0.1:9000/";  // a trailing slash must not double
  c::http_call call = tw::build_send(s, msg);
  EXPECT_EQ(call.url, "http://127.0.0.1:9000/2010-04-01/Accounts/"
                      "AC0123456789abcdef0123456789abcdef/Messages.json");
  EXPECT_EQ(call.body, "To=%2B14155552671&From=%2B14155550234&Body=Arr%C3%AAt");
}

TEST(WireTwilio, Accepted) {
  auto out = tw::parse_send_response(
      201, {},
      R"({"sid":"SM1234567890abcdef1234567890abcdef","status":"queued","error_code":null,)"
      R"("num_segments":"1","account_sid":"AC0123456789abcdef0123456789abcdef"})",
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_FALSE(out.failure);
  EXPECT_EQ(out.carrier_message_id, "SM1234567890abcdef1234567890abcdef");
  EXPECT_EQ(out.carrier_status, "queued");
}

TEST(WireTwilio, OptedOut21610) {
  auto out = tw::parse_send_response(
      400, {},
      R"({"code":21610,"message":"Attempt to send to unsubscribed recipient",)"
      R"("more_info":"https://www.twilio.com/docs/errors/21610","status":400})",
      now);
  EXPECT_FALSE(out.accepted);
  EXPECT_EQ(out.failure, failure_class::recipient_opted_out);
  EXPECT_EQ(out.error_code, "21610");
  EXPECT_EQ(out.error_message, "Attempt to send to unsubscribed recipient");
  EXPECT_FALSE(out.retry_after);
}

TEST(WireTwilio, RateLimitedWithRetryAfterSeconds) {
  auto out = tw::parse_send_response(
      429, {{"retry-after", "7"}},
      R"({"code":20429,"message":"Too Many Requests","status":429})", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "20429");
  EXPECT_EQ(out.retry_after, seconds(7));
}

TEST(WireTwilio, ServerErrorWithRetryAfterDate) {
  // 2026-05-01 is a Friday; 12:00:30 GMT is 30 s after `now`.
  auto out = tw::parse_send_response(503, {{"Retry-After", "Fri, 01 May 2026 12:00:30 GMT"}},
                                     "<html>Service Unavailable</html>", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "http_503");
  EXPECT_EQ(out.error_message, "<html>Service Unavailable</html>");
  EXPECT_EQ(out.retry_after, seconds(30));
}

TEST(WireTwilio, PermanentErrors) {
  auto out = tw::parse_send_response(
      400, {{"Retry-After", "5"}},
      R"({"code":21211,"message":"The 'To' number is not a valid phone number.","status":400})",
      now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "21211");
  EXPECT_FALSE(out.retry_after);  // only retryable failures wait
  EXPECT_EQ(tw::parse_send_response(401, {}, "{}", now).failure, failure_class::permanent);
}

TEST(WireTwilio, GarbageResponses) {
  std::string huge(5000, '\x01');
  auto out = tw::parse_send_response(500, {}, huge, now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_message, std::string(200, '?'));
  // A 2xx we cannot read may still have been taken: permanent, never retried elsewhere.
  out = tw::parse_send_response(201, {}, "not json", now);
  EXPECT_FALSE(out.accepted);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "bad_response");
  out = tw::parse_send_response(201, {}, R"({"status":"queued"})", now);
  EXPECT_EQ(out.error_code, "bad_response");
}

TEST(WireTwilio, InboundForm) {
  const char* body =
      "ToCountry=US&ToState=CA&SmsMessageSid=SM0a1b2c3d4e5f60718293a4b5c6d7e8f9&NumMedia=0"
      "&ToCity=SAN+FRANCISCO&FromZip=94105&SmsSid=SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
      "&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Stop+please%21"
      "&FromCountry=US&To=%2B14155550234&ToZip=94105&NumSegments=1"
      "&MessageSid=SM0a1b2c3d4e5f60718293a4b5c6d7e8f9&AccountSid=AC0123456789abcdef"
      "&From=%2B14155552671&ApiVersion=2010-04-01&OptOutType=STOP";
  auto m = tw::parse_inbound("application/x-www-form-urlencoded; charset=utf-8", body, "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "twilio");
  EXPECT_EQ(m->carrier_message_id, "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(m->from, "+14155552671");
  EXPECT_EQ(m->to, "+14155550234");
  EXPECT_EQ(m->body, "Stop please!");
  EXPECT_EQ(m->carrier_intent, "STOP");
}

TEST(WireTwilio, InboundGetUsesQuery) {
  auto m = tw::parse_inbound("", "", "MessageSid=SM1&From=%2B14155552671&To=%2B14155550234&Body=HELP");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "HELP");
  EXPECT_EQ(m->carrier_intent, "");
}

TEST(WireTwilio, InboundErrors) {
  auto form = "application/x-www-form-urlencoded";
  EXPECT_EQ(err(tw::parse_inbound(form, "From=%2B14155552671&To=%2B1415&Body=x", "").error()),
            wire_errc::missing_message_id);
  EXPECT_EQ(err(tw::parse_inbound(form, "MessageSid=SM1&To=%2B14155550234", "").error()),
            wire_errc::missing_from);
  EXPECT_EQ(err(tw::parse_inbound(form, "MessageSid=SM1&From=%2B14155552671", "").error()),
            wire_errc::missing_to);
  EXPECT_EQ(err(tw::parse_inbound(form, "MessageSid=SM1&From=a&From=b&To=c", "").error()),
            wire_errc::duplicate_field);
  EXPECT_EQ(err(tw::parse_inbound(form, "MessageSid=%ZZ", "").error()),
            wire_errc::malformed_body);
  EXPECT_EQ(err(tw::parse_inbound("application/json", R"({"MessageSid":"SM1"})", "").error()),
            wire_errc::bad_content_type);
  std::string long_body = "MessageSid=SM1&From=a&To=b&Body=" + std::string(20000, 'x');
  EXPECT_EQ(err(tw::parse_inbound(form, long_body, "").error()), wire_errc::field_too_long);
}

TEST(WireTwilio, StatusDelivered) {
  auto u = tw::parse_status("application/x-www-form-urlencoded",
                            "SmsSid=SM1&SmsStatus=delivered&MessageStatus=delivered"
                            "&To=%2B14155552671&MessageSid=SM1&AccountSid=AC1"
                            "&From=%2B14155550234&ApiVersion=2010-04-01",
                            "");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->carrier_message_id, "SM1");
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->raw_status, "delivered");
  EXPECT_EQ(u->to, "+14155552671");
  EXPECT_EQ(u->from, "+14155550234");
  EXPECT_FALSE(u->failure);
}

TEST(WireTwilio, StatusOptOutCodes) {
  auto form = "application/x-www-form-urlencoded";
  for (const char* code : {"21610", "63014"}) {
    auto u = tw::parse_status(
        form, std::string("MessageSid=SM2&MessageStatus=undelivered&ErrorCode=") + code, "");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->status, "undelivered");
    EXPECT_EQ(u->error_code, code);
    EXPECT_EQ(u->failure, failure_class::recipient_opted_out) << code;
  }
  auto u = tw::parse_status(form, "MessageSid=SM3&MessageStatus=failed&ErrorCode=30003", "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->failure, failure_class::permanent);
  EXPECT_EQ(err(tw::parse_status(form, "MessageSid=SM3", "").error()), wire_errc::missing_status);
}

TEST(WireTwilio, StatusNormalisation) {
  EXPECT_EQ(tw::normalise_status("accepted"), "queued");
  EXPECT_EQ(tw::normalise_status("scheduled"), "queued");
  EXPECT_EQ(tw::normalise_status("sending"), "sending");
  EXPECT_EQ(tw::normalise_status("sent"), "sent");
  EXPECT_EQ(tw::normalise_status("read"), "read");
  EXPECT_EQ(tw::normalise_status("canceled"), "canceled");
  EXPECT_EQ(tw::normalise_status("partially_delivered"), "sent");
  EXPECT_EQ(tw::normalise_status("receiving"), "unknown");
  EXPECT_EQ(tw::normalise_status("Delivered"), "unknown");
}
