// Bandwidth wire format against carriers.md section 3.
#include "carriers/bandwidth/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace bw = stopgate::carriers::bandwidth;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings(bool token) {
  stopgate::config::carrier_settings s;
  s.type = stopgate::config::carrier_type::bandwidth;
  s.base_url = "https://messaging.bandwidth.com";
  stopgate::config::bandwidth_credentials cr;
  cr.account_id = "9900000";
  cr.application_id = "93de2206-9669-4e07-948d-329f4b722ee2";
  cr.username = "bw-user";
  cr.password = stopgate::config::secret::from_inline("bw-pass");
  if (token) cr.token = stopgate::config::secret::from_inline("eyJhbGciOi.tok");
  s.credentials = cr;
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }

constexpr const char* json_type = "application/json; charset=utf-8";

// The one event of a callback that carries one.
boost::system::result<c::inbound_message> one_inbound(std::string_view body) {
  auto all = bw::parse_inbound_events(json_type, body);
  if (!all) return all.error();
  EXPECT_EQ(all->size(), 1u);
  return all->front();
}
boost::system::result<c::status_update> one_status(std::string_view body) {
  auto all = bw::parse_status_events(json_type, body);
  if (!all) return all.error();
  EXPECT_EQ(all->size(), 1u);
  return all->front();
}

constexpr const char* inbound_body = R"([{"type":"message-received","time":"2026-05-01T12:00:00Z",
"description":"Incoming message received","to":"+14155550234","message":{
"id":"14762070468292kw2fuqty55yp2b2","time":"2026-05-01T12:00:00Z","to":["+14155550234"],
"from":"+14155552671","text":"Stop","applicationId":"93de2206-9669-4e07-948d-329f4b722ee2",
"media":[],"owner":"+14155550234","direction":"in","segmentCount":1}}])";

std::string status_event(const std::string& type, const std::string& extra) {
  return R"([{"type":")" + type + R"(","time":"2026-05-01T12:00:05Z","description":"x",)"
         R"("to":"+14155552671",)" + extra +
         R"("message":{"id":"1589228074636lm4k2je7j7jklbn2","owner":"+14155550234",)"
         R"("applicationId":"93de2206","time":"2026-05-01T12:00:00Z","segmentCount":1,)"
         R"("direction":"out","to":["+14155552671"],"from":"+14155550234","text":"","tag":"m-1"}}])";
}

}  // namespace

TEST(WireBandwidth, BuildSendBasicAuth) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hello", "m-1", ""};
  c::http_call call = bw::build_send(settings(false), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://messaging.bandwidth.com/api/v2/users/9900000/messages");
  EXPECT_EQ(call.content_type, "application/json; charset=utf-8");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].first, "Authorization");
  EXPECT_EQ(call.headers[0].second, "Basic YnctdXNlcjpidy1wYXNz");
  EXPECT_EQ(call.body,
            R"({"applicationId":"93de2206-9669-4e07-948d-329f4b722ee2","to":["+14155552671"],)"
            R"("from":"+14155550234","text":"Hello","tag":"m-1"})");
}

TEST(WireBandwidth, BuildSendBearerWhenTokenConfigured) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hello", "m-1", ""};
  c::http_call call = bw::build_send(settings(true), msg);
  EXPECT_EQ(call.headers[0].second, "Bearer eyJhbGciOi.tok");
}

TEST(WireBandwidth, Accepted) {
  auto out = bw::parse_send_response(
      202, {},
      R"({"id":"1589228074636lm4k2je7j7jklbn2","owner":"+14155550234","applicationId":"93de",)"
      R"("time":"2026-05-01T12:00:00.000Z","segmentCount":1,"direction":"out",)"
      R"("to":["+14155552671"],"from":"+14155550234","text":"Hello","tag":"m-1"})",
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "1589228074636lm4k2je7j7jklbn2");
}

TEST(WireBandwidth, Errors) {
  auto out = bw::parse_send_response(
      429, {},
      R"({"type":"max-message-queue-size-exceeded","description":"The SMS queue for your account is full"})",
      now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "max-message-queue-size-exceeded");
  EXPECT_EQ(out.error_message, "The SMS queue for your account is full");
  EXPECT_FALSE(out.retry_after);
  out = bw::parse_send_response(429, {{"Retry-After", "4"}}, "{}", now);
  EXPECT_EQ(out.retry_after, seconds(4));
  out = bw::parse_send_response(
      400, {}, R"({"type":"request-validation","description":"'to' must be E.164"})", now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "request-validation");
  out = bw::parse_send_response(401, {}, "", now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "http_401");
  EXPECT_EQ(bw::parse_send_response(500, {}, "oops", now).failure, failure_class::retryable);
}

TEST(WireBandwidth, Inbound) {
  auto m = one_inbound(inbound_body);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "bandwidth");
  EXPECT_EQ(m->carrier_message_id, "14762070468292kw2fuqty55yp2b2");
  EXPECT_EQ(m->from, "+14155552671");
  EXPECT_EQ(m->to, "+14155550234");
  EXPECT_EQ(m->body, "Stop");
}

TEST(WireBandwidth, InboundSeveralEvents) {
  std::string two = std::string(inbound_body);
  two.pop_back();  // drop ']'
  two += R"(,{"type":"message-received","to":"+14155550299","message":{"id":"second",)"
         R"("from":"+14155552671","to":["+14155550234","+14155550299"],"text":"hi"}}])";
  auto all = bw::parse_inbound_events(json_type, two);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].carrier_message_id, "second");
  EXPECT_EQ((*all)[1].to, "+14155550299");
}

TEST(WireBandwidth, InboundErrors) {
  EXPECT_EQ(err(one_inbound(R"({"type":"message-received"})").error()), wire_errc::malformed_body);
  EXPECT_EQ(err(one_inbound("[]").error()), wire_errc::ignored_event);
  EXPECT_EQ(err(one_inbound(status_event("message-delivered", "")).error()),
            wire_errc::ignored_event);
  EXPECT_EQ(err(one_inbound(R"([{"type":"message-received","message":{}}])").error()),
            wire_errc::missing_message_id);
  EXPECT_EQ(err(one_inbound(R"([{"message":{}}])").error()), wire_errc::malformed_body);
  std::string many = "[";
  for (int i = 0; i < 65; ++i) many += std::string(i ? "," : "") + "{}";
  many += "]";
  EXPECT_EQ(err(one_inbound(many).error()), wire_errc::malformed_body);
}

TEST(WireBandwidth, StatusDeliveredAndFailed) {
  auto u = one_status(status_event("message-delivered", ""));
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->carrier_message_id, "1589228074636lm4k2je7j7jklbn2");
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->raw_status, "message-delivered");
  EXPECT_EQ(u->to, "+14155552671");
  EXPECT_EQ(u->from, "+14155550234");
  EXPECT_FALSE(u->failure);

  for (const char* code : {"4775", "4482"}) {
    u = one_status(status_event("message-failed", std::string(R"("errorCode":)") + code + ","));
    ASSERT_TRUE(u);
    EXPECT_EQ(u->status, "failed");
    EXPECT_EQ(u->error_code, code);
    EXPECT_EQ(u->failure, failure_class::recipient_opted_out) << code;
  }
  u = one_status(status_event("message-failed", R"("errorCode":5100,)"));
  EXPECT_EQ(u->failure, failure_class::retryable);
  u = one_status(status_event("message-failed", R"("errorCode":4720,)"));
  EXPECT_EQ(u->failure, failure_class::permanent);
  EXPECT_EQ(err(one_status(inbound_body).error()), wire_errc::ignored_event);
  EXPECT_EQ(bw::normalise_status("message-sending"), "sending");
}
