// POST /v1/inbound/{carrier} in-process: the real HTTP server over loopback, a real Redis,
// a real evidence log, two worker threads; every carrier's own signed format.
#include "tests/gateway/webhook_test_support.hpp"

#include "carriers/sandbox/signature.hpp"

#include <boost/json.hpp>

#include <cerrno>

namespace stopgate::test {
namespace {

namespace json = boost::json;
using webhooks::send_verdict;

const std::string acme_number = "+14155552000";
const std::string beta_number = "+14155552001";
const std::string acme_optout_reply =
    "You are unsubscribed from acme. No more messages will be sent. Reply HELP for help.";

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

bool has_optout(const dnc::contacts::contact_record& r, std::string_view sender,
                std::string_view source = "") {
  for (auto& o : r.optouts)
    if (o.sender == sender && (source.empty() || o.source == source)) return true;
  return false;
}

// Signs with secrets that are not the configured ones.
config::carrier_settings with_wrong_secret(config::carrier_settings c) {
  using config::secret;
  std::visit(
      [](auto& k) {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, config::twilio_credentials>)
          k.auth_token = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::bandwidth_credentials>)
          k.webhook_password = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::vonage_credentials>)
          k.signature_secret = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::plivo_credentials>)
          k.auth_token = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::sinch_credentials>)
          k.webhook_secret = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::http_credentials>)
          k.webhook_secret = secret::from_inline("wrong");
        if constexpr (std::is_same_v<T, config::sandbox_credentials>)
          k.webhook_secret = secret::from_inline("wrong");
      },
      c.credentials);
  return c;
}

class WebhookCarrier : public shared_redis<::testing::TestWithParam<std::string>> {};

TEST_P(WebhookCarrier, SignedStopOptsOutRecordsEvidenceAndQueuesOneConfirmation) {
  webhook_bed bed(*redis);
  const std::string carrier = GetParam();
  const std::string consumer = "+14155552671";
  auto [status, body] =
      bed.post(bed.inbound(carrier, "m-" + carrier + "-1", consumer, acme_number, "Stop"));
  ASSERT_EQ(status, 200) << body;
  // The answer the carrier reads: an empty TwiML / Plivo XML document (no reply from the
  // carrier itself), JSON for the others.
  EXPECT_EQ(body, carrier == "twilio" || carrier == "plivo" ? "<Response></Response>" : R"({"ok":true})");

  auto rec = bed.lookup(consumer);
  EXPECT_TRUE(has_optout(rec, "acme", "sms:" + carrier)) << "opt-out of acme from sms:" << carrier;
  EXPECT_FALSE(has_optout(rec, "beta"));
  EXPECT_FALSE(has_optout(rec, "*"));

  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("carrier")), carrier);
  EXPECT_EQ(str(inbound[0].at("carrier_message_id")), "m-" + carrier + "-1");
  EXPECT_EQ(str(inbound[0].at("from")), consumer);
  EXPECT_EQ(str(inbound[0].at("to")), acme_number);
  EXPECT_EQ(str(inbound[0].at("sender")), "acme");
  EXPECT_EQ(str(inbound[0].at("class")), "opt_out");
  EXPECT_EQ(str(inbound[0].at("match")), "exact");
  EXPECT_EQ(str(inbound[0].at("body")), "Stop");
  auto optout = bed.records_of("optout");
  ASSERT_EQ(optout.size(), 1u);
  EXPECT_EQ(str(optout[0].at("to")), consumer);
  EXPECT_EQ(str(optout[0].at("sender")), "acme");
  EXPECT_EQ(str(optout[0].at("source")), "sms:" + carrier);
  EXPECT_EQ(str(optout[0].at("inbound_evidence_id")), str(inbound[0].at("id")));
  EXPECT_EQ(rec.optouts.at(0).evidence_id, std::string(optout[0].at("id").as_string()));

  // The confirmation: from the number written to, through the carrier it came in on.
  auto sent = bed.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].kind, "optout");
  EXPECT_EQ(sent[0].carrier, carrier);
  EXPECT_EQ(sent[0].from, acme_number);
  EXPECT_EQ(sent[0].to, consumer);
  EXPECT_EQ(sent[0].body, acme_optout_reply);
  EXPECT_EQ(bed.svc().stats().inbound_count(carrier, "opt_out"), 1u);
}

TEST_P(WebhookCarrier, BadOrMissingSignatureIs403AndChangesNothing) {
  webhook_bed bed(*redis);
  const std::string carrier = GetParam();
  const std::string consumer = "+14155552672";
  fake_carrier::signing keys;
  keys.telnyx_seed = std::string(32, 'x');  // not the configured key's seed
  auto wrong = with_wrong_secret(bed.carrier(carrier));
  auto bad = fake_carrier::inbound_webhook(
      wrong, "https://gw.example.com", {"m-bad", consumer, acme_number, "STOP"}, bed.now(), keys);
  EXPECT_EQ(bed.post(bad).first, 403);

  // The right signature over another body (or with the signature headers gone).
  auto good = bed.inbound(carrier, "m-bad", consumer, acme_number, "STOP");
  auto unsigned_req = good;
  std::erase_if(unsigned_req.headers, [](auto& h) { return h.first != "Content-Type"; });
  if (carrier == "vonage")
    unsigned_req.body = "msisdn=14155552672&to=14155552000&messageId=m-bad&text=STOP";
  EXPECT_EQ(bed.post(unsigned_req).first, 403);

  EXPECT_TRUE(bed.lookup(consumer).optouts.empty());
  EXPECT_TRUE(bed.records_of("inbound").empty());
  EXPECT_TRUE(bed.records_of("optout").empty());
  EXPECT_EQ(redis->cli("KEYS '{sg:in}*'"), "");
  EXPECT_GE(bed.svc().stats().signature_count(carrier), 2u);
  // The genuine one still works afterwards (nothing was claimed by the refused ones).
  EXPECT_EQ(bed.post(good).first, 200);
  EXPECT_TRUE(has_optout(bed.lookup(consumer), "acme"));
}

INSTANTIATE_TEST_SUITE_P(AllCarriers, WebhookCarrier,
                         ::testing::Values("twilio", "telnyx", "bandwidth", "vonage", "plivo",
                                           "sinch", "generic", "sandbox"),
                         [](const auto& info) { return info.param; });

class WebhookInbound : public shared_redis<> {};

TEST_F(WebhookInbound, UnknownCarrierIs403MalformedIs400IgnoredEventIs200) {
  webhook_bed bed(*redis);
  auto w = bed.inbound("sandbox", "m1", "+14155552671", acme_number, "STOP");
  w.path = "/v1/inbound/nosuch";
  EXPECT_EQ(bed.post(w).first, 403);
  w.path = "/v1/inbound/";
  EXPECT_EQ(bed.post(w).first, 403);

  // Signed correctly, but not an inbound message.
  fake_carrier::webhook bad;
  bad.path = "/v1/inbound/sandbox";
  bad.content_type = "application/json";
  bad.body = R"({"from":"+14155552671","body":"STOP"})";
  const auto ts =
      std::chrono::duration_cast<std::chrono::seconds>(bed.now().time_since_epoch()).count();
  bad.headers = {
      {"X-Stopgate-Timestamp", std::to_string(ts)},
      {"X-Stopgate-Signature", carriers::signature::sandbox_sign("sandbox-secret", ts, bad.body)}};
  EXPECT_EQ(bed.post(bad).first, 400);
  EXPECT_EQ(bed.svc().stats().inbound_count("sandbox", "malformed"), 1u);

  // A Telnyx status event posted to the inbound URL: acknowledged, nothing applied.
  auto st = fake_carrier::status_webhook(bed.carrier("telnyx"), "https://gw.example.com",
                                         {"m2", "delivered", "", "+14155552671", acme_number},
                                         bed.now(), {.telnyx_seed = telnyx_seed});
  st.path = "/v1/inbound/telnyx";
  EXPECT_EQ(bed.post(st).first, 200);
  EXPECT_EQ(bed.svc().stats().inbound_count("telnyx", "ignored"), 1u);
  EXPECT_TRUE(bed.records_of("inbound").empty());
}

TEST_F(WebhookInbound, StaleTimestampIs403) {
  webhook_bed bed(*redis);
  auto w = bed.inbound("sinch", "m1", "+14155552671", acme_number, "STOP");
  bed.advance(std::chrono::minutes(6));  // past the 5-minute replay window
  EXPECT_EQ(bed.post(w).first, 403);
  EXPECT_TRUE(bed.lookup("+14155552671").optouts.empty());
}

TEST_F(WebhookInbound, RetriedWebhookIsAppliedOnce) {
  webhook_bed bed(*redis);
  auto w = bed.inbound("twilio", "SM-retry", "+14155552671", acme_number, "STOP");
  EXPECT_EQ(bed.post(w).first, 200);
  EXPECT_EQ(bed.post(w).first, 200);
  EXPECT_EQ(bed.post(w).first, 200);
  EXPECT_EQ(bed.records_of("inbound").size(), 1u);
  EXPECT_EQ(bed.records_of("optout").size(), 1u);
  EXPECT_EQ(bed.svc().stats().inbound_count("twilio", "duplicate"), 2u);
  EXPECT_EQ(bed.wait_sent(1).size(), 1u);
  // Even once the queue is drained, a retry does not queue another confirmation.
  EXPECT_EQ(bed.post(w).first, 200);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(bed.sent().size(), 1u);
}

TEST_F(WebhookInbound, SecondStopWithin24HoursGetsNoSecondConfirmation) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", acme_number, "STOP")).first, 200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  EXPECT_EQ(
      bed.post(bed.inbound("twilio", "SM2", "+14155552671", acme_number, "unsubscribe")).first,
      200);
  EXPECT_EQ(
      bed.post(bed.inbound("telnyx", "tx3", "+14155552671", acme_number, "please stop texting me"))
          .first,
      200);
  // Both were recorded (evidence, opt-out refreshed), neither confirmed.
  EXPECT_EQ(bed.records_of("inbound").size(), 3u);
  EXPECT_EQ(bed.records_of("optout").size(), 3u);
  EXPECT_EQ(bed.svc().stats().reply_count("optout", "suppressed"), 2u);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(bed.sent().size(), 1u);
  // Another sender's STOP from the same consumer gets its own confirmation.
  EXPECT_EQ(bed.post(bed.inbound("twilio", "SM4", "+14155552671", beta_number, "STOP")).first, 200);
  auto sent = bed.wait_sent(2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].body, "Beta: unsubscribed.");
  EXPECT_EQ(sent[1].from, beta_number);
}

TEST_F(WebhookInbound, ConfirmationAgainAfterTheMarkerExpires) {
  webhooks::service_options o;
  o.store.marker_ttl = std::chrono::milliseconds(200);
  webhook_bed bed(*redis, "", o);
  EXPECT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", acme_number, "STOP")).first, 200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  // Wait until Redis expired the marker (a state, not a duration, is awaited).
  for (int i = 0; i < 500 && redis->cli("KEYS '{sg:in}:m:*'") != ""; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(bed.post(bed.inbound("twilio", "SM2", "+14155552671", acme_number, "STOP")).first, 200);
  EXPECT_EQ(bed.wait_sent(2).size(), 2u);
}

TEST_F(WebhookInbound, StopAllOptsOutOfEverySenderAndUnknownNumberStopsEverything) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("plivo", "p1", "+14155552671", acme_number, "STOP ALL")).first,
            200);
  auto r1 = bed.lookup("+14155552671");
  EXPECT_TRUE(has_optout(r1, "*", "sms:plivo"));
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  EXPECT_EQ(bed.sent()[0].body, acme_optout_reply);

  // No sender owns +14155552999: the STOP applies to every sender; no template, no reply.
  EXPECT_EQ(bed.post(bed.inbound("plivo", "p2", "+14155552672", "+14155552999", "stop")).first,
            200);
  auto r2 = bed.lookup("+14155552672");
  EXPECT_TRUE(has_optout(r2, "*"));
  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 2u);
  EXPECT_TRUE(inbound[1].at("sender").is_null());
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(bed.sent().size(), 1u);
}

TEST_F(WebhookInbound, HelpGetsTheHelpReplyAndChangesNoOptOut) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("sinch", "h1", "+14155552671", acme_number, "help")).first, 200);
  auto sent = bed.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].kind, "help");
  EXPECT_EQ(sent[0].carrier, "sinch");
  EXPECT_EQ(sent[0].body, bed.settings().sender("acme")->help_reply);
  EXPECT_TRUE(bed.lookup("+14155552671").optouts.empty());
  EXPECT_EQ(str(bed.records_of("inbound").at(0).at("class")), "help");
}

TEST_F(WebhookInbound, StartLiftsTheSendersOptOutWithAKeywordConsent) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("vonage", "v1", "+14155552671", acme_number, "STOP")).first, 200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  bed.advance(std::chrono::seconds(10));
  EXPECT_EQ(bed.post(bed.inbound("vonage", "v2", "+14155552671", acme_number, "Start")).first, 200);
  auto rec = bed.lookup("+14155552671");
  EXPECT_FALSE(has_optout(rec, "acme"));
  ASSERT_EQ(rec.consents.size(), 1u);
  EXPECT_EQ(rec.consents[0].fact.sender, "acme");
  EXPECT_EQ(rec.consents[0].fact.kind, dnc::model::consent_kind::express);
  EXPECT_EQ(rec.consents[0].source.method, "keyword");
  auto optin = bed.records_of("optin");
  ASSERT_EQ(optin.size(), 1u);
  EXPECT_EQ(str(optin[0].at("kind")), "express");
  EXPECT_EQ(str(optin[0].at("method")), "keyword");
  auto sent = bed.wait_sent(2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].kind, "optin");
  EXPECT_EQ(sent[1].body, bed.settings().sender("acme")->optin_reply);
}

TEST_F(WebhookInbound, StartDoesNotLiftAStopAllAndIsNotConfirmed) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("twilio", "a1", "+14155552671", acme_number, "STOPALL")).first,
            200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  bed.advance(std::chrono::seconds(10));
  EXPECT_EQ(bed.post(bed.inbound("twilio", "a2", "+14155552671", acme_number, "START")).first, 200);
  auto rec = bed.lookup("+14155552671");
  EXPECT_TRUE(has_optout(rec, "*"));
  EXPECT_EQ(rec.consents.size(), 1u);  // recorded, but the global opt-out stays
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(bed.sent().size(), 1u);
}

TEST_F(WebhookInbound, RedisDownIs503ThenTheRetryApplies) {
  webhook_bed bed(*redis);
  auto w = bed.inbound("telnyx", "tx-down", "+14155552671", acme_number, "STOP");
  redis->stop();
  auto [status, body] = bed.post(w);
  EXPECT_EQ(status, 503) << body;
  EXPECT_EQ(bed.svc().stats().inbound_count("telnyx", "unavailable"), 1u);
  redis->start();
  // The carrier retries until the gateway has its Redis back.
  int retry_status = 0;
  for (int i = 0; i < 200 && retry_status != 200; ++i) {
    retry_status = bed.post(w).first;
    if (retry_status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(retry_status, 200);
  EXPECT_TRUE(has_optout(bed.lookup("+14155552671"), "acme"));
  EXPECT_EQ(bed.wait_sent(1).size(), 1u);
}

// The opt-out reaches Redis only once its evidence batch is durable. When the batch's
// fdatasync fails the answer is 503, nothing reached Redis, the claim is given back, and the
// carrier's retry (here through another gateway sharing the Redis) applies the message: the
// store names that gateway's durable optout record, and one confirmation goes out.
TEST_F(WebhookInbound, EvidenceFailureIs503AndTheRetryThroughAnotherGatewayConverges) {
  const std::string consumer = "+14155552671";
  {
    evidence::log_hooks failing;
    failing.fdatasync = [](int) {
      errno = EIO;
      return -1;
    };
    webhook_bed a(*redis, "", {}, failing, "gwA");
    auto [status, body] = a.post(a.inbound("telnyx", "tx-eio", consumer, acme_number, "STOP"));
    EXPECT_EQ(status, 503) << body;
    EXPECT_EQ(a.svc().stats().inbound_count("telnyx", "unavailable"), 1u);
    EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");  // nothing queued, not marked done
    EXPECT_FALSE(has_optout(a.lookup(consumer), "acme"));
  }
  webhook_bed b(*redis, "", {}, {}, "gwB");
  auto [status, body] = b.post(b.inbound("telnyx", "tx-eio", consumer, acme_number, "STOP"));
  ASSERT_EQ(status, 200) << body;
  auto optout = b.records_of("optout");
  ASSERT_EQ(optout.size(), 1u);
  auto rec = b.lookup(consumer);
  ASSERT_TRUE(has_optout(rec, "acme"));
  EXPECT_EQ(rec.optouts.at(0).evidence_id, std::string(optout[0].at("id").as_string()));
  EXPECT_EQ(b.wait_sent(1).size(), 1u);
  EXPECT_EQ(b.post(b.inbound("telnyx", "tx-eio", consumer, acme_number, "STOP")).first, 200);
  EXPECT_EQ(b.records_of("optout").size(), 1u);
}

TEST_F(WebhookInbound, ConcurrentDeliveriesOfOneMessageApplyOnce) {
  webhook_bed bed(*redis);
  auto w = bed.inbound("bandwidth", "bw-c", "+14155552671", acme_number, "STOP");
  std::vector<std::future<int>> f;
  for (int i = 0; i < 8; ++i)
    f.push_back(std::async(std::launch::async, [&] { return bed.post(w).first; }));
  int ok = 0;
  for (auto& x : f) {
    const int s = x.get();
    EXPECT_TRUE(s == 200 || s == 503) << s;  // 503: another delivery holds the claim
    ok += s == 200;
  }
  EXPECT_GE(ok, 1);
  EXPECT_EQ(bed.records_of("inbound").size(), 1u);
  EXPECT_EQ(bed.records_of("optout").size(), 1u);
  EXPECT_EQ(bed.wait_sent(1).size(), 1u);
  EXPECT_EQ(bed.post(w).first, 200);
}

TEST_F(WebhookInbound, PhraseMatchIsAnOptOutMarkedAsPhrase) {
  webhook_bed bed(*redis);
  EXPECT_EQ(
      bed.post(bed.inbound("sandbox", "s1", "+14155552671", acme_number, "please stop texting me"))
          .first,
      200);
  EXPECT_TRUE(has_optout(bed.lookup("+14155552671"), "acme"));
  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("match")), "phrase");
  EXPECT_EQ(str(bed.records_of("optout").at(0).at("match")), "phrase");
}

TEST_F(WebhookInbound, MetricsCountInboundSignaturesAndReplies) {
  webhook_bed bed(*redis);
  EXPECT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", acme_number, "STOP")).first, 200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  auto bad = bed.inbound("twilio", "SM2", "+14155552671", acme_number, "STOP");
  bad.body += "&x=1";
  EXPECT_EQ(bed.post(bad).first, 403);
  const auto metrics_text = [&] {
    std::string text;
    for (auto& f : bed.svc().metric_families())
      for (auto& s : f.samples) {
        text += f.name + "{";
        for (auto& l : s.labels) text += l.name + "=" + l.value + ",";
        text += "} " + std::to_string(std::int64_t(s.value)) + "\n";
      }
    return text;
  };
  // The drainer counts a send once its queue update is done; worker 0 samples the queue depth
  // on its next pass, so the gauge reaches 0 a moment later.
  std::string text = metrics_text();
  for (int i = 0; i < 500 && (bed.svc().stats().reply_count("optout", "sent") == 0 ||
                              text.find("stopgate_inbound_reply_queue_depth{} 0") == std::string::npos);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    text = metrics_text();
  }
  EXPECT_NE(text.find("stopgate_inbound_webhooks_total{carrier=twilio,class=opt_out,} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stopgate_inbound_signature_failures_total{carrier=twilio,} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stopgate_inbound_replies_total{kind=optout,result=sent,} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stopgate_inbound_reply_queue_depth{} 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace stopgate::test
