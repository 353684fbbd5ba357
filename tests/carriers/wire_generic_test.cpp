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
  EXPECT_EQ(m->carrier, "vonage");
  auto u = c::parse_status(carrier_type::plivo, "", "", "MessageUUID=u&Status=sent");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->carrier, "plivo");
}
