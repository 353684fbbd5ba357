// tools/fake_carrier/webhooks: every builder's request verifies with the carrier's own scheme
// and parses back to what was put in (the inverse of carriers/<name>/wire); and forwarding of
// `other` messages to a sender's forward_url, received by a loopback server.
#include "tests/gateway/webhook_test_support.hpp"
#include "tests/support/http_receiver.hpp"

#include "carriers/signature/verify.hpp"
#include "carriers/wire/adapter.hpp"
#include "gateway/webhooks/carrier_number.hpp"

#include <boost/json.hpp>

namespace stopgate::test {
namespace {

namespace json = boost::json;

carriers::signature::webhook_request as_request(const fake_carrier::webhook& w,
                                                std::string_view base) {
  carriers::signature::webhook_request r;
  r.method = w.method;
  r.url = std::string(base) + w.path;
  r.headers = w.headers;
  r.headers.emplace_back("Content-Type", w.content_type);
  r.body = w.body;
  r.content_type = w.content_type;
  return r;
}

class WebhookFakeCarrier : public ::testing::TestWithParam<std::string> {};

TEST_P(WebhookFakeCarrier, InboundAndStatusVerifyAndParseBack) {
  temp_dir d;
  auto s = *config::load_string(webhook_config(d), "test");
  const auto& c = *s->carrier(GetParam());
  const auto now = std::chrono::system_clock::now();
  fake_carrier::signing keys{telnyx_seed, false};
  const std::string base = "https://gw.example.com";

  auto in = fake_carrier::inbound_webhook(
      c, base, {"msg-1", "+14155552671", "+14155552000", "Arrêt, s'il vous plaît"}, now, keys);
  EXPECT_EQ(in.path, "/v1/inbound/" + c.name);
  auto v = carriers::signature::verify_webhook(c, as_request(in, base), now, false);
  EXPECT_TRUE(v.ok()) << v.error.message();
  auto all = carriers::parse_inbound(c.type, in.content_type, in.body, "");
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ(all->size(), 1u);
  const auto* m = &all->front();
  EXPECT_EQ(m->carrier_message_id, "msg-1");
  // As the gateway reads them (some carriers write numbers without the '+').
  EXPECT_EQ(gateway::webhooks::read_carrier_number(m->from, c.default_country).text,
            "+14155552671");
  EXPECT_EQ(gateway::webhooks::read_carrier_number(m->to, c.default_country).text, "+14155552000");
  EXPECT_EQ(m->body, "Arrêt, s'il vous plaît");
  // Tampering with the body breaks every scheme but Bandwidth's (basic auth, no payload MAC).
  auto tampered = as_request(in, base);
  tampered.body.back() = tampered.body.back() == 'x' ? 'y' : 'x';
  if (c.type != config::carrier_type::bandwidth) {
    EXPECT_FALSE(carriers::signature::verify_webhook(c, tampered, now, false).ok());
  }

  // A failed delivery with the carrier's opt-out code, where it has one.
  struct case_t {
    std::string status, code, want;
  };
  static const std::map<std::string, case_t> cases = {
      {"twilio", {"undelivered", "21610", "undelivered"}},
      {"telnyx", {"delivery_failed", "40300", "undelivered"}},
      {"bandwidth", {"message-failed", "4775", "failed"}},
      {"vonage", {"failed", "9", "undelivered"}},
      {"plivo", {"undelivered", "200", "undelivered"}},
      {"sinch", {"Delivered", "", "delivered"}},
      {"generic", {"failed", "recipient_opted_out", "failed"}},
      {"sandbox", {"delivered", "", "delivered"}}};
  const auto& k = cases.at(c.name);
  auto st = fake_carrier::status_webhook(
      c, base, {"out-9", k.status, k.code, "+14155552671", "+14155552000"}, now, keys);
  EXPECT_EQ(st.path, "/v1/status/" + c.name);
  auto sv = carriers::signature::verify_webhook(c, as_request(st, base), now, false);
  EXPECT_TRUE(sv.ok()) << sv.error.message();
  auto updates = carriers::parse_status(c.type, st.content_type, st.body, "");
  ASSERT_TRUE(updates) << updates.error().message();
  ASSERT_EQ(updates->size(), 1u);
  const auto* u = &updates->front();
  EXPECT_EQ(u->carrier_message_id, "out-9");
  EXPECT_EQ(u->status, k.want);
  if (!k.code.empty()) {
    ASSERT_TRUE(u->failure.has_value());
    EXPECT_EQ(*u->failure, carriers::failure_class::recipient_opted_out);
  }
}

TEST(WebhookFakeCarrierVonage, JwtSignedInboundVerifies) {
  temp_dir d;
  auto s = *config::load_string(webhook_config(d), "test");
  const auto& c = *s->carrier("vonage");
  const auto now = std::chrono::system_clock::now();
  auto in = fake_carrier::inbound_webhook(c, "https://gw.example.com",
                                          {"v-1", "+14155552671", "+14155552000", "STOP"}, now,
                                          {"", true});
  EXPECT_EQ(in.content_type, "application/json");
  auto v =
      carriers::signature::verify_webhook(c, as_request(in, "https://gw.example.com"), now, false);
  EXPECT_TRUE(v.ok()) << v.error.message();
  auto m = carriers::parse_inbound(c.type, in.content_type, in.body, "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->front().body, "STOP");
}

INSTANTIATE_TEST_SUITE_P(AllCarriers, WebhookFakeCarrier,
                         ::testing::Values("twilio", "telnyx", "bandwidth", "vonage", "plivo",
                                           "sinch", "generic", "sandbox"),
                         [](const auto& info) { return info.param; });

class WebhookForward : public shared_redis<> {};

TEST_F(WebhookForward, OtherMessagesArePostedToTheSendersForwardUrl) {
  receiver rx(200);
  webhook_bed bed(
      *redis,
      "[senders.fwd]\nnumbers = [\"+14155552002\"]\nroute = [\"sandbox\"]\nforward_url = \"" +
          rx.url() + "\"\n");
  ASSERT_EQ(bed.post(bed.inbound("twilio", "SMf", "+14155552671", "+14155552002",
                                 "what time do you open?"))
                .first,
            200);
  std::vector<std::string> got;
  for (int i = 0; i < 500 && (got = rx.bodies()).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(got.size(), 1u);
  auto o = json::parse(got[0]).as_object();
  EXPECT_EQ(std::string(o.at("body").as_string()), "what time do you open?");
  EXPECT_EQ(std::string(o.at("from").as_string()), "+14155552671");
  EXPECT_EQ(std::string(o.at("sender").as_string()), "fwd");
  EXPECT_EQ(std::string(o.at("carrier_message_id").as_string()), "SMf");
  EXPECT_EQ(std::string(o.at("evidence_id").as_string()),
            std::string(bed.records_of("inbound").at(0).at("id").as_string()));
  EXPECT_TRUE(bed.lookup("+14155552671").optouts.empty());
  EXPECT_TRUE(bed.sent().empty());  // no reply to `other`
  // A sender without forward_url: recorded only.
  ASSERT_EQ(bed.post(bed.inbound("twilio", "SMg", "+14155552671", "+14155552000", "thanks!")).first,
            200);
  EXPECT_EQ(bed.records_of("inbound").size(), 2u);
}

TEST_F(WebhookForward, A4xxIsNotRetriedA5xxIsRetriedAFewTimes) {
  receiver bad(400), down(503);
  webhooks::service_options o;
  o.forward_backoff = std::chrono::milliseconds(10);
  webhook_bed bed(
      *redis,
      "[senders.f1]\nnumbers = [\"+14155552003\"]\nroute = [\"sandbox\"]\nforward_url = \"" +
          bad.url() +
          "\"\n[senders.f2]\nnumbers = [\"+14155552004\"]\nroute = [\"sandbox\"]\nforward_url = "
          "\"" +
          down.url() + "\"\n",
      o);
  ASSERT_EQ(bed.post(bed.inbound("sinch", "s1", "+14155552671", "+14155552003", "hello")).first,
            200);
  ASSERT_EQ(bed.post(bed.inbound("sinch", "s2", "+14155552671", "+14155552004", "hello")).first,
            200);
  for (int i = 0; i < 500 && down.bodies().size() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(down.bodies().size(), 3u);  // forward_attempts
  EXPECT_EQ(bad.bodies().size(), 1u);
}

}  // namespace
}  // namespace stopgate::test
