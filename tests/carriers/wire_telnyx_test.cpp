// Telnyx wire format against carriers.md section 2.
#include "carriers/telnyx/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace tx = stopgate::carriers::telnyx;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.type = stopgate::config::carrier_type::telnyx;
  s.base_url = "https://api.telnyx.com";
  stopgate::config::telnyx_credentials cr;
  cr.api_key = stopgate::config::secret::from_inline("KEY0123456789ABCDEF");
  s.credentials = cr;
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }

constexpr const char* inbound_body = R"({
  "data": {
    "event_type": "message.received",
    "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
    "occurred_at": "2026-05-01T12:00:00.000+00:00",
    "payload": {
      "direction": "inbound",
      "from": {"carrier": "T-Mobile USA", "line_type": "long_code", "phone_number": "+14155552671"},
      "id": "84cca175-9755-4859-b67f-4730d7f58aa3",
      "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
      "record_type": "message",
      "text": "STOP",
      "to": [{"carrier": "Telnyx", "line_type": "Wireless", "phone_number": "+14155550234",
              "status": "webhook_delivered"}],
      "type": "SMS"
    },
    "record_type": "event"
  },
  "meta": {"attempt": 1, "delivered_to": "https://gw.example.com/v1/inbound/telnyx"}
})";

std::string finalized(const std::string& status, const std::string& errors) {
  return R"({"data":{"event_type":"message.finalized","id":"e1","payload":{)"
         R"("id":"40385f64-5717-4562-b3fc-2c963f66afa6","from":{"phone_number":"+14155550234"},)"
         R"("to":[{"phone_number":"+14155552671","status":")" +
         status + R"("}],"errors":)" + errors + R"(}}})";
}

}  // namespace

TEST(WireTelnyx, BuildSendExactBytes) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Say \"hi\"\n\\o/", "m-1",
                          "https://gw.example.com/v1/status/telnyx"};
  c::http_call call = tx::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://api.telnyx.com/v2/messages");
  EXPECT_EQ(call.content_type, "application/json");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].first, "Authorization");
  EXPECT_EQ(call.headers[0].second, "Bearer KEY0123456789ABCDEF");
  EXPECT_EQ(call.body,
            R"({"from":"+14155550234","to":"+14155552671","text":"Say \"hi\"\n\\o/",)"
            R"("webhook_url":"https://gw.example.com/v1/status/telnyx"})");
  msg.status_callback_url.clear();
  EXPECT_EQ(tx::build_send(settings(), msg).body.find("webhook_url"), std::string::npos);
}

TEST(WireTelnyx, Accepted) {
  auto out = tx::parse_send_response(
      200, {},
      R"({"data":{"record_type":"message","direction":"outbound",)"
      R"("id":"40385f64-5717-4562-b3fc-2c963f66afa6","type":"SMS",)"
      R"("to":[{"phone_number":"+14155552671","status":"queued","carrier":"T-Mobile USA",)"
      R"("line_type":"Wireless"}],"from":{"phone_number":"+14155550234"},"text":"Hi",)"
      R"("parts":1,"errors":[]}})",
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
  EXPECT_EQ(out.carrier_status, "queued");
}

TEST(WireTelnyx, OptedOut40300WhateverTheStatus) {
  const char* body =
      R"({"errors":[{"code":"40300","title":"Blocked due to STOP message",)"
      R"("detail":"Messages cannot be sent from '+14155550234' to '+14155552671' due to an existing block rule."}]})";
  for (int status : {400, 403, 422}) {
    auto out = tx::parse_send_response(status, {}, body, now);
    EXPECT_EQ(out.failure, failure_class::recipient_opted_out) << status;
    EXPECT_EQ(out.error_code, "40300");
    EXPECT_EQ(out.error_message.substr(0, 29), "Messages cannot be sent from ");
  }
}

TEST(WireTelnyx, RateLimitUsesResetHeader) {
  const char* body = R"({"errors":[{"code":"10011","title":"Too many requests"}]})";
  auto out = tx::parse_send_response(
      429, {{"x-ratelimit-limit", "60"}, {"x-ratelimit-remaining", "0"}, {"X-RateLimit-Reset", "12"}},
      body, now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "10011");
  EXPECT_EQ(out.error_message, "Too many requests");
  EXPECT_EQ(out.retry_after, seconds(12));
  // Retry-After wins when both are present.
  out = tx::parse_send_response(429, {{"x-ratelimit-reset", "12"}, {"Retry-After", "3"}}, body, now);
  EXPECT_EQ(out.retry_after, seconds(3));
  // 10011 means rate limited even when the status code says otherwise.
  EXPECT_EQ(tx::parse_send_response(400, {}, body, now).failure, failure_class::retryable);
  // Unreadable 429 still honours the reset header.
  out = tx::parse_send_response(429, {{"x-ratelimit-reset", "2"}}, "", now);
  EXPECT_EQ(out.retry_after, seconds(2));
}

TEST(WireTelnyx, PermanentAndServerErrors) {
  auto out = tx::parse_send_response(
      400, {}, R"({"errors":[{"code":"10016","title":"Phone number must be in +E.164 format"}]})",
      now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "10016");
  out = tx::parse_send_response(502, {}, R"({"errors":[]})", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.error_code, "http_502");
  out = tx::parse_send_response(200, {}, R"({"data":{}})", now);
  EXPECT_EQ(out.error_code, "bad_response");
}

TEST(WireTelnyx, Inbound) {
  auto m = tx::parse_inbound("application/json", inbound_body, "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "telnyx");
  EXPECT_EQ(m->carrier_message_id, "84cca175-9755-4859-b67f-4730d7f58aa3");
  EXPECT_EQ(m->from, "+14155552671");
  EXPECT_EQ(m->to, "+14155550234");
  EXPECT_EQ(m->body, "STOP");
}

TEST(WireTelnyx, InboundErrors) {
  EXPECT_EQ(err(tx::parse_inbound("application/json", finalized("delivered", "[]"), "").error()),
            wire_errc::ignored_event);
  EXPECT_EQ(err(tx::parse_inbound("application/json", "{\"data\":", "").error()),
            wire_errc::malformed_body);
  EXPECT_EQ(err(tx::parse_inbound("application/json", "[1,2]", "").error()),
            wire_errc::malformed_body);
  EXPECT_EQ(err(tx::parse_inbound("text/plain", inbound_body, "").error()),
            wire_errc::bad_content_type);
  EXPECT_EQ(err(tx::parse_inbound("application/json",
                                  R"({"data":{"event_type":"message.received","payload":{}}})", "")
                    .error()),
            wire_errc::missing_message_id);
  EXPECT_EQ(err(tx::parse_inbound(
                    "application/json",
                    R"({"data":{"event_type":"message.received","payload":{"id":"x","from":{"phone_number":7},"to":[]}}})",
                    "")
                    .error()),
            wire_errc::missing_to);
}

TEST(WireTelnyx, StatusFinalized) {
  auto u = tx::parse_status("application/json", finalized("delivered", "[]"), "");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->carrier_message_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->to, "+14155552671");
  EXPECT_EQ(u->from, "+14155550234");
  EXPECT_FALSE(u->failure);

  u = tx::parse_status("application/json",
                       finalized("delivery_failed",
                                 R"([{"code":"40300","title":"Blocked due to STOP message"}])"),
                       "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "undelivered");
  EXPECT_EQ(u->raw_status, "delivery_failed");
  EXPECT_EQ(u->error_code, "40300");
  EXPECT_EQ(u->failure, failure_class::recipient_opted_out);

  u = tx::parse_status("application/json",
                       finalized("sending_failed", R"([{"code":"40006"}])"), "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "failed");
  EXPECT_EQ(u->failure, failure_class::retryable);
  u = tx::parse_status("application/json",
                       finalized("delivery_failed", R"([{"code":"40001"}])"), "");
  EXPECT_EQ(u->failure, failure_class::permanent);
}

TEST(WireTelnyx, StatusEvents) {
  EXPECT_EQ(err(tx::parse_status("application/json", inbound_body, "").error()),
            wire_errc::ignored_event);
  std::string sent = finalized("sent", "[]");
  sent.replace(sent.find("message.finalized"), 17, "message.sent");
  auto u = tx::parse_status("application/json", sent, "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "sent");
  EXPECT_EQ(tx::normalise_status("delivery_unconfirmed"), "sent");
  EXPECT_EQ(tx::normalise_status("queued"), "queued");
  EXPECT_EQ(tx::normalise_status("sending"), "sending");
  EXPECT_EQ(tx::normalise_status("webhook_delivered"), "unknown");
}
