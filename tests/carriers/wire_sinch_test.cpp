// Sinch xms wire format against carriers.md section 6.
#include "carriers/sinch/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace sn = stopgate::carriers::sinch;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.type = stopgate::config::carrier_type::sinch;
  s.base_url = "https://us.sms.api.sinch.com";
  stopgate::config::sinch_credentials cr;
  cr.service_plan_id = "a1b2c3d4e5";
  cr.api_token = stopgate::config::secret::from_inline("sinch-token");
  s.credentials = cr;
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }
constexpr const char* json = "application/json";

}  // namespace

TEST(WireSinch, BuildSendExactBytes) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hi", "m-1", ""};
  c::http_call call = sn::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://us.sms.api.sinch.com/xms/v1/a1b2c3d4e5/batches");
  EXPECT_EQ(call.content_type, "application/json");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].second, "Bearer sinch-token");
  EXPECT_EQ(call.body,
            R"({"from":"+14155550234","to":["+14155552671"],"body":"Hi",)"
            R"("client_reference":"m-1","delivery_report":"per_recipient"})");
  msg.status_callback_url = "https://gw.example.com/v1/status/sinch";
  EXPECT_NE(sn::build_send(settings(), msg)
                .body.find(R"("callback_url":"https://gw.example.com/v1/status/sinch")"),
            std::string::npos);
}

TEST(WireSinch, SendResponses) {
  auto out = sn::parse_send_response(
      201, {},
      R"({"id":"01FC66621XXXXX119Z8PMV1QPQ","to":["14155552671"],"from":"14155550234",)"
      R"("canceled":false,"body":"Hi","type":"mt_text","created_at":"2026-05-01T12:00:00.000Z",)"
      R"("delivery_report":"per_recipient","client_reference":"m-1"})",
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "01FC66621XXXXX119Z8PMV1QPQ");
  out = sn::parse_send_response(
      400, {}, R"({"code":"syntax_invalid_parameter_format","text":"Bad 'to'"})", now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "syntax_invalid_parameter_format");
  EXPECT_EQ(out.error_message, "Bad 'to'");
  out = sn::parse_send_response(429, {{"Retry-After", "1"}}, "", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.retry_after, seconds(1));
  EXPECT_EQ(sn::parse_send_response(403, {}, "{}", now).failure, failure_class::permanent);
}

TEST(WireSinch, InboundMo) {
  auto m = sn::parse_inbound(
      json,
      R"({"id":"01XXXXX21XXXXX119Z8P1XXXXX","type":"mo_text","from":"14155552671",)"
      R"("to":"14155550234","body":"Unsubscribe","operator_id":"310260",)"
      R"("sent_at":"2026-05-01T12:00:00Z","received_at":"2026-05-01T12:00:01Z"})",
      "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "sinch");
  EXPECT_EQ(m->carrier_message_id, "01XXXXX21XXXXX119Z8P1XXXXX");
  EXPECT_EQ(m->from, "14155552671");  // as sent: the gateway reads it
  EXPECT_EQ(m->to, "14155550234");    // as sent: the gateway reads it
  EXPECT_EQ(m->body, "Unsubscribe");
  EXPECT_EQ(err(sn::parse_inbound(json, R"({"type":"mo_binary","id":"x","body":"AAE="})", "")
                    .error()),
            wire_errc::ignored_event);
  EXPECT_EQ(err(sn::parse_inbound(json, R"({"id":"x"})", "").error()), wire_errc::malformed_body);
  EXPECT_EQ(err(sn::parse_inbound(json, R"({"type":"mo_text","id":"x","to":"1"})", "").error()),
            wire_errc::missing_from);
}

namespace {
// The one update of a report that carries one.
boost::system::result<c::status_update> one_status(std::string_view body) {
  auto all = sn::parse_status_updates(json, body);
  if (!all) return all.error();
  EXPECT_EQ(all->size(), 1u);
  return all->front();
}
}  // namespace

TEST(WireSinch, DeliveryReports) {
  auto u = one_status(
      R"({"type":"recipient_delivery_report_sms","batch_id":"01FC66621XXXXX119Z8PMV1QPQ",)"
      R"("recipient":"14155552671","code":0,"status":"Delivered","at":"2026-05-01T12:00:05Z",)"
      R"("client_reference":"m-1"})");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->carrier_message_id, "01FC66621XXXXX119Z8PMV1QPQ");
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->error_code, "0");
  EXPECT_EQ(u->to, "14155552671");  // as sent: the gateway reads it
  EXPECT_FALSE(u->failure);

  u = one_status(
      R"({"type":"delivery_report_sms","batch_id":"B1","total_message_count":1,)"
      R"("statuses":[{"code":406,"status":"Deleted","count":1,"recipients":["+14155552671"]}]})");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->status, "undelivered");
  EXPECT_EQ(u->raw_status, "Deleted");
  EXPECT_EQ(u->error_code, "406");
  EXPECT_EQ(u->to, "+14155552671");
  // Deleted is ambiguous (opted out or invalid number): not an opt-out.
  EXPECT_EQ(u->failure, failure_class::permanent);
  EXPECT_EQ(err(one_status(R"({"type":"mo_text"})").error()), wire_errc::ignored_event);
  EXPECT_EQ(err(one_status(R"({"type":"delivery_report_sms","batch_id":"B"})").error()),
            wire_errc::missing_status);
  EXPECT_EQ(sn::normalise_status("Dispatched"), "sent");
  EXPECT_EQ(sn::normalise_status("Rejected"), "failed");
  EXPECT_EQ(sn::normalise_status("Cancelled"), "canceled");
  EXPECT_EQ(sn::normalise_status("Queued"), "queued");
}
