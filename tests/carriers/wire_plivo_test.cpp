// Plivo wire format against carriers.md section 5.
#include "carriers/plivo/wire.hpp"

#include <gtest/gtest.h>

namespace c = stopgate::carriers;
namespace pl = stopgate::carriers::plivo;
using namespace std::chrono;
using c::failure_class;
using c::wire_errc;

namespace {

const system_clock::time_point now = sys_days{2026y / 5 / 1} + 12h;

stopgate::config::carrier_settings settings() {
  stopgate::config::carrier_settings s;
  s.type = stopgate::config::carrier_type::plivo;
  s.base_url = "https://api.plivo.com";
  s.credentials = stopgate::config::plivo_credentials{
      "MAXXXXXXXXXXXXXXXXXX", stopgate::config::secret::from_inline("plivo-token")};
  return s;
}

wire_errc err(const boost::system::error_code& ec) { return wire_errc(ec.value()); }
constexpr const char* form = "application/x-www-form-urlencoded";

}  // namespace

TEST(WirePlivo, BuildSendExactBytes) {
  c::outbound_message msg{"+14155552671", "+14155550234", "Hi", "m-1",
                          "https://gw.example.com/v1/status/plivo"};
  c::http_call call = pl::build_send(settings(), msg);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/");
  EXPECT_EQ(call.content_type, "application/json");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].second, "Basic TUFYWFhYWFhYWFhYWFhYWFhYWFg6cGxpdm8tdG9rZW4=");
  EXPECT_EQ(call.body,
            R"({"src":"14155550234","dst":"14155552671","text":"Hi",)"
            R"("url":"https://gw.example.com/v1/status/plivo"})");
}

TEST(WirePlivo, SendResponses) {
  auto out = pl::parse_send_response(
      202, {},
      R"({"message":"message(s) queued","message_uuid":["db3ce55a-7f1d-11e1-8ea7-1231380bc196"],)"
      R"("api_id":"db342550-7f1d-11e1-8ea7-1231380bc196"})",
      now);
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.carrier_message_id, "db3ce55a-7f1d-11e1-8ea7-1231380bc196");
  out = pl::parse_send_response(
      400, {}, R"({"api_id":"a1","error":"src parameter not present"})", now);
  EXPECT_EQ(out.failure, failure_class::permanent);
  EXPECT_EQ(out.error_code, "http_400");
  EXPECT_EQ(out.error_message, "src parameter not present");
  out = pl::parse_send_response(429, {{"Retry-After", "9"}}, R"({"error":"too many"})", now);
  EXPECT_EQ(out.failure, failure_class::retryable);
  EXPECT_EQ(out.retry_after, seconds(9));
  EXPECT_EQ(pl::parse_send_response(503, {}, "", now).failure, failure_class::retryable);
  EXPECT_EQ(pl::parse_send_response(202, {}, R"({"message_uuid":[]})", now).error_code,
            "bad_response");
}

TEST(WirePlivo, Inbound) {
  auto m = pl::parse_inbound(form,
                             "From=14155552671&To=14155550234&Text=STOP&Type=sms"
                             "&MessageUUID=0936ec98-7c4c-11e6-9c4b-0242ac110003&Units=1"
                             "&TotalRate=0&TotalAmount=0&MessageIntent=optout",
                             "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->carrier, "plivo");
  EXPECT_EQ(m->carrier_message_id, "0936ec98-7c4c-11e6-9c4b-0242ac110003");
  EXPECT_EQ(m->from, "14155552671");  // as sent: the gateway reads it
  EXPECT_EQ(m->to, "14155550234");    // as sent: the gateway reads it
  EXPECT_EQ(m->body, "STOP");
  EXPECT_EQ(m->carrier_intent, "optout");
  // MMS carries Body instead of Text; GET webhooks carry everything in the query.
  m = pl::parse_inbound("", "", "From=14155552671&To=14155550234&Body=stop&Type=mms&MessageUUID=u2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "stop");
  EXPECT_EQ(err(pl::parse_inbound(form, "From=1&To=2&Text=x", "").error()),
            wire_errc::missing_message_id);
}

TEST(WirePlivo, Status) {
  auto u = pl::parse_status(form,
                            "MessageUUID=db3ce55a&To=14155552671&From=14155550234&Type=sms"
                            "&Status=delivered&Units=1&MCC=310&MNC=260",
                            "");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->status, "delivered");
  EXPECT_EQ(u->to, "14155552671");  // as sent: the gateway reads it
  EXPECT_FALSE(u->failure);
  u = pl::parse_status(form, "MessageUUID=db3ce55a&Status=failed&ErrorCode=200", "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, "failed");
  EXPECT_EQ(u->error_code, "200");
  EXPECT_EQ(u->failure, failure_class::recipient_opted_out);
  u = pl::parse_status(form, "MessageUUID=db3ce55a&Status=undelivered&ErrorCode=30", "");
  EXPECT_EQ(u->status, "undelivered");
  EXPECT_EQ(u->failure, failure_class::permanent);
  EXPECT_EQ(pl::normalise_status("rejected"), "failed");
  EXPECT_EQ(pl::normalise_status("queued"), "queued");
  EXPECT_EQ(pl::normalise_status("sent"), "sent");
  EXPECT_EQ(err(pl::parse_status(form, "MessageUUID=x", "").error()), wire_errc::missing_status);
}
