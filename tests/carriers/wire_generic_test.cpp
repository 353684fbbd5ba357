// The generic http carrier, the sandbox and the dispatch by carrier type.
#include "carriers/generic/wire.hpp"
#include "carriers/sandbox/wire.hpp"
#include "carriers/wire/adapter.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace gn = stopgate::carriers::generic;
namespace sb = stopgate::carriers::sandbox;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;
using stopgate::config::carrier_type;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h + 3s + 250ms;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.type = carrier_type::http;
  stopgate::config::http_credentials cr;
  cr.url = "https://sms.example.net/send";
  cr.headers = {{"X-Api-Key", stopgate::config::secret::from_inline("k1")},
                {"X-Tenant", stopgate::config::secret::from_inline("acme")}};
  s.credentials = cr;
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }
constexpr const char* json = "application/json";

}  // namespace

TEST(WireGeneric, BuildSendExactBytes) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hi\u2014there", "m-1", ""};
  c::http_call call = gn::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://sms.example.net/send");
  EXPECT_EQ(call.content_type, "application/json");
  ASSERT_EQ(call.headers.size(), 2u);
  EXPECT_EQ(call.headers[0], (std::pair<std::string, std::string>{"X-Api-Key", "k1"}));
  EXPECT_EQ(call.headers[1], (std::pair<std::string, std::string>{"X-Tenant", "acme"}));
  EXPECT_EQ(call.body,
            "{\"to\":\"+14155552671\",\"from\":\"+14155550234\",\"body\":\"Hi\xE2\x80\x94there\","
            "\"message_id\":\"m-1\"}");
}

TEST(WireGeneric, SendResponses) {
  auto out = gn::parse_send_response(202, {}, R"({"id":"g-77","status":"queued"})", now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "g-77");
  EXPECT_EQ(out.carrier_status, "queued");
  out = gn::parse_send_response(200, {}, "", now);  // a bare 2xx is enough
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "");
  out = gn::parse_send_response(
      409, {}, R"({"error":{"code":"recipient_opted_out","message":"replied STOP"}})", now);
  EXPECT_EQ(out.failure, failure_class::recipient_opted_out);
  EXPECT_EQ(out.error_message, "replied STOP");
  out = gn::parse_send_response(503, {{"Retry-After", "Fri, 01 May 2026 12:00:03 GMT"}},
                                R"({"code":"busy","message":"later"})", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "busy");
  EXPECT_EQ(out.retry_after, milliseconds(0));  // that instant has passed
  out = gn::parse_send_response(422, {}, "nope", now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "http_422");
  EXPECT_EQ(out.error_message, "nope");
}

TEST(WireGeneric, Webhooks) {
  auto m = gn::parse_inbound(json,
                             R"({"message_id":"in-1","from":"+14155552671","to":"+14155550234",)"
                             R"("body":"STOP"})",
                             "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "http");
  EXPECT_EQ(m->body, "STOP");
  EXPECT_EQ(err(gn::parse_inbound(json, R"(["x"])", "").error()), wire_errc::malformed_body);
  EXPECT_EQ(err(gn::parse_inbound(json, R"({"message_id":{},"from":"x"})", "").error()),
            wire_errc::malformed_body);
  auto u = gn::parse_status(
      json, R"({"message_id":"g-77","status":"failed","error_code":"recipient_opted_out"})", "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "failed");
  EXPECT_EQ(u->failure, failure_class::recipient_opted_out);
  u = gn::parse_status(json, R"({"message_id":"g-77","status":"exploded"})", "");
  EXPECT_EQ(u->status, "unknown");
  EXPECT_EQ(u->raw_status, "exploded");
  EXPECT_FALSE(u->failure);
}

TEST(WireSandbox, OutboxLine) {
  c::outbound_message msg{"+14155552671", "+14155550234", "line one\nline \"two\"", "m-9", ""};
  EXPECT_EQ(sb::outbox_line(msg, now),
            "{\"ts\":\"2026-05-01T12:00:03.250Z\",\"carrier_message_id\":\"sandbox-m-9\","
            "\"message_id\":\"m-9\",\"to\":\"+14155552671\",\"from\":\"+14155550234\","
            "\"body\":\"line one\\nline \\\"two\\\"\"}\n");
  auto out = sb::accepted_outcome(msg);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "sandbox-m-9");
  auto m = sb::parse_inbound(json,
                             R"({"message_id":"in-1","from":"+14155552671","to":"+14155550234",)"
                             R"("body":"STOP"})",
                             "");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->carrier, "sandbox");
}

TEST(WireAdapter, DispatchesByType) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hi", "m-1", ""};
  auto s = settings();
  auto call = c::build_send(s, msg);
  ASSERT_TRUE(call);
  EXPECT_EQ(call->url, "https://sms.example.net/send");
  s.type = carrier_type::sandbox;
  s.credentials = stopgate::config::sandbox_credentials{};
  EXPECT_FALSE(c::build_send(s, msg));
  auto out = c::parse_send_response(carrier_type::twilio, 400, {}, R"({"code":21610})", now);
  EXPECT_EQ(out.failure, failure_class::recipient_opted_out);
  auto m = c::parse_inbound(carrier_type::vonage, "", "",
                            "msisdn=14155552671&to=14155550234&messageId=A&text=STOP");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(m->front().carrier, "vonage");
  auto u = c::parse_status(carrier_type::plivo, "", "", "MessageUUID=u&Status=sent");
  ASSERT_TRUE(u);
  ASSERT_EQ(u->size(), 1u);
  EXPECT_EQ(u->front().carrier, "plivo");
}

TEST(WireAdapter, EveryEventOfABatchedCallback) {
  // A Bandwidth status callback with a delivery and then an opt-out failure: both come back,
  // in order (only the first used to).
  const std::string two =
      R"([{"type":"message-delivered","time":"2026-05-01T12:00:00Z","to":"+14155552671",)"
      R"("message":{"id":"m-1","from":"+14155550234","to":["+14155552671"]}},)"
      R"({"type":"message-failed","time":"2026-05-01T12:00:01Z","errorCode":4775,)"
      R"("to":"+14155552672","message":{"id":"m-2","from":"+14155550234",)"
      R"("to":["+14155552672"]}}])";
  auto u = c::parse_status(carrier_type::bandwidth, "application/json", two, "");
  ASSERT_TRUE(u) << u.error().message();
  ASSERT_EQ(u->size(), 2u);
  EXPECT_EQ((*u)[0].status, "delivered");
  EXPECT_EQ((*u)[1].status, "failed");
  EXPECT_EQ((*u)[1].to, "+14155552672");
  EXPECT_EQ((*u)[1].failure, failure_class::recipient_opted_out);

  // Inbound arrays too: one message per message-received event.
  const std::string in =
      R"([{"type":"message-received","to":"+14155550234","message":{"id":"i-1",)"
      R"("from":"+14155552671","to":["+14155550234"],"text":"STOP"}},)"
      R"({"type":"message-received","to":"+14155550299","message":{"id":"i-1",)"
      R"("from":"+14155552671","to":["+14155550234","+14155550299"],"text":"STOP"}}])";
  auto m = c::parse_inbound(carrier_type::bandwidth, "application/json", in, "");
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[1].to, "+14155550299");

  // A Sinch batch report: each recipient of each status.
  auto s = c::parse_status(
      carrier_type::sinch, "application/json",
      R"({"type":"delivery_report_sms","batch_id":"B1","statuses":[)"
      R"({"code":0,"status":"Delivered","count":2,"recipients":["+14155552671","+14155552672"]},)"
      R"({"code":406,"status":"Deleted","count":1,"recipients":["+14155552673"]}]})",
      "");
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[1].to, "+14155552672");
  EXPECT_EQ((*s)[1].status, "delivered");
  EXPECT_EQ((*s)[2].to, "+14155552673");
  EXPECT_EQ((*s)[2].status, "undelivered");
}

TEST(WireAdapter, NumbersAreKeptAsSent) {
  // The gateway reads numbers with the carrier's default country (a bare 10-digit number is
  // NANP there); the adapters add nothing, so "2027621422" is not turned into +20 (Egypt).
  auto m = c::parse_inbound(carrier_type::twilio, "application/x-www-form-urlencoded",
                            "MessageSid=SM1&From=2027621422&To=%2B14155552000&Body=STOP", "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->front().from, "2027621422");
  EXPECT_EQ(m->front().to, "+14155552000");
  m = c::parse_inbound(carrier_type::vonage, "", "",
                       "msisdn=447700900001&to=14155552000&messageId=A&text=STOP");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->front().from, "447700900001");
}

TEST(WireAdapter, TextThatIsNotUtf8IsKeptByteForByte) {
  // Form bodies: %FF decodes to the byte 0xFF.
  auto m =
      c::parse_inbound(carrier_type::twilio, "application/x-www-form-urlencoded",
                       "MessageSid=SM1&From=%2B14155552671&To=%2B14155552000&Body=STOP%FF", "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->front().body, "STOP\xFF");
  // JSON bodies with such bytes inside a string are read, not refused as malformed.
  for (auto type : {carrier_type::http, carrier_type::sandbox}) {
    m = c::parse_inbound(type, "application/json",
                         "{\"message_id\":\"g1\",\"from\":\"+14155552671\",\"to\":"
                         "\"+14155552000\",\"body\":\"Stop\xE9\"}",
                         "");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->front().body, "Stop\xE9");
  }
  m = c::parse_inbound(carrier_type::vonage, "application/json",
                       "{\"msisdn\":\"14155552671\",\"to\":\"14155552000\",\"messageId\":"
                       "\"V1\",\"text\":\"\xFF\"}",
                       "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->front().body, "\xFF");
  // JSON that is broken otherwise is still malformed.
  EXPECT_EQ(
      c::parse_inbound(carrier_type::http, "application/json", "{\"body\":\"\xFF}", "").error(),
      make_error_code(wire_errc::malformed_body));
}
