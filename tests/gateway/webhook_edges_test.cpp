// Opt-outs that used to be lost at the webhook edges (issue 13, items 1-4 and 10), through
// the real routes in-process: numbers written without a country code, bodies that are not
// UTF-8, batched Bandwidth callbacks, Twilio's two spellings of a quote in the signed URL,
// and unknown carrier names answered like bad signatures.
#include "tests/gateway/webhook_test_support.hpp"

#include "carriers/twilio/signature.hpp"
#include "gateway/evidence/field_crypto.hpp"

#include <boost/json.hpp>

#include <ostream>

namespace stopgate::test {
namespace {

namespace json = boost::json;

const std::string acme_number = "+14155552000";

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

bool has_optout(const dnc::contacts::contact_record& r, std::string_view sender,
                std::string_view source = "") {
  for (auto& o : r.optouts)
    if (o.sender == sender && (source.empty() || o.source == source)) return true;
  return false;
}

class WebhookEdges : public shared_redis<> {};

// ---- 1. numbers without a country code ----------------------------------------------------

TEST_F(WebhookEdges, BareTenDigitSenderOptsOutItsNanpNumberNotAnotherCountrys) {
  webhook_bed bed(*redis);
  auto [status, body] =
      bed.post(bed.inbound("twilio", "SM-bare", "2027621422", acme_number, "STOP"));
  ASSERT_EQ(status, 200) << body;
  EXPECT_TRUE(has_optout(bed.lookup("+12027621422"), "acme", "sms:twilio"));
  EXPECT_TRUE(bed.lookup("+2027621422").optouts.empty());  // not Egypt's +20 2762 1422

  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("from")), "+12027621422");
  EXPECT_EQ(str(inbound[0].at("from_as_sent")), "2027621422");
  auto optout = bed.records_of("optout");
  ASSERT_EQ(optout.size(), 1u);
  EXPECT_EQ(str(optout[0].at("to")), "+12027621422");
  // The confirmation goes to the number that wrote, too.
  auto sent = bed.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "+12027621422");
}

TEST_F(WebhookEdges, CarrierThatSendsNumbersWithoutThePlusIsReadTheSameWay) {
  // Vonage writes numbers without '+': the US number 12027621422 and our 14155552000.
  webhook_bed bed(*redis);
  ASSERT_EQ(bed.post(bed.inbound("vonage", "v-1", "12027621422", "14155552000", "STOP")).first,
            200);
  EXPECT_TRUE(has_optout(bed.lookup("+12027621422"), "acme", "sms:vonage"));
  EXPECT_EQ(str(bed.records_of("inbound").at(0).at("to")), acme_number);
}

TEST_F(WebhookEdges, AmbiguousNumberIsRecordedAsSuchAndKeysNothing) {
  webhook_bed bed(*redis);
  // Seven digits: a local number without its area code, or a short international one.
  auto [status, body] = bed.post(bed.inbound("plivo", "p-7", "7621422", "14155552000", "STOP"));
  ASSERT_EQ(status, 200) << body;
  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("from")), "7621422");
  EXPECT_EQ(str(inbound[0].at("from_reading")), "ambiguous");
  EXPECT_TRUE(inbound[0].contains("from_invalid"));
  EXPECT_EQ(str(inbound[0].at("class")), "opt_out");
  EXPECT_TRUE(bed.records_of("optout").empty());
  EXPECT_TRUE(bed.lookup("+7621422").optouts.empty());  // nor read as +7 ...
  EXPECT_TRUE(bed.lookup("+14157621422").optouts.empty());
}

TEST_F(WebhookEdges, DefaultCountryNoneReadsBareDigitsAsInternational) {
  // A carrier declared to send international numbers only: 10 bare digits are E.164.
  webhook_bed bed(*redis,
                  "[carriers.vonage_intl]\ntype = \"vonage\"\napi_key = \"vkey\"\n"
                  "api_secret = \"vsecret\"\nsignature_secret = \"vonage-sig-secret\"\n"
                  "default_country = \"\"\n");
  ASSERT_EQ(bed.post(bed.inbound("vonage_intl", "vi-1", "4682345678", "14155552000", "STOP")).first,
            200);
  EXPECT_TRUE(has_optout(bed.lookup("+4682345678"), "acme", "sms:vonage_intl"));
  EXPECT_TRUE(bed.lookup("+14682345678").optouts.empty());
}

// ---- 2. bodies that are not UTF-8 ---------------------------------------------------------

struct body_case {
  std::string carrier;
  std::string body;  // raw bytes
  std::string cls;
  std::string recorded;  // the `body` field: U+FFFD for each byte that is not UTF-8
};

void PrintTo(const body_case& c, std::ostream* os) {
  *os << c.carrier << " body of " << c.body.size() << " bytes, class " << c.cls;
}

class WebhookNonUtf8 : public WebhookEdges, public ::testing::WithParamInterface<body_case> {};

TEST_P(WebhookNonUtf8, IsRecordedWithItsBytesAndClassified) {
  const auto& c = GetParam();
  webhook_bed bed(*redis);
  const std::string consumer = "+14155552671";
  // Form carriers get the bytes percent-encoded (Body=STOP%FF), JSON ones raw inside a string.
  auto w = bed.inbound(c.carrier, "nu-1", consumer, acme_number, c.body);
  auto [status, answer] = bed.post(w);
  ASSERT_EQ(status, 200) << answer;
  // A retry is a duplicate, not another 503.
  EXPECT_EQ(bed.post(w).first, 200);

  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("class")), c.cls);
  EXPECT_EQ(str(inbound[0].at("body")), c.recorded);
  auto bytes = carriers::signature::base64_decode(inbound[0].at("body_b64").as_string());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, c.body);
  const bool stop = c.cls == "opt_out";
  EXPECT_EQ(has_optout(bed.lookup(consumer), "acme"), stop);
  EXPECT_EQ(bed.records_of("optout").size(), stop ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, WebhookNonUtf8,
    ::testing::Values(body_case{"twilio", "STOP\xFF", "opt_out", "STOP\xEF\xBF\xBD"},
                      body_case{"twilio", "\xFF", "other", "\xEF\xBF\xBD"},
                      body_case{"twilio", "Stop\xE9", "opt_out", "Stop\xEF\xBF\xBD"},
                      // Latin-1 "Arrêt": an opt-out only when its bytes are read as Latin-1.
                      body_case{"plivo", "Arr\xEAt", "opt_out", "Arr\xEF\xBF\xBDt"},
                      body_case{"generic", "STOP\xFF", "opt_out", "STOP\xEF\xBF\xBD"},
                      body_case{"telnyx", "Stop\xE9", "opt_out", "Stop\xEF\xBF\xBD"},
                      body_case{"sinch", "\xFF", "other", "\xEF\xBF\xBD"}),
    [](const auto& info) { return info.param.carrier + std::to_string(info.index); });

TEST_F(WebhookEdges, Latin1ReadingIsNotedWhenItDecidedTheClass) {
  webhook_bed bed(*redis);
  ASSERT_EQ(bed.post(bed.inbound("twilio", "l1", "+14155552671", acme_number, "Arr\xEAt")).first,
            200);
  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(str(inbound[0].at("body_reading")), "latin1");
  EXPECT_EQ(str(inbound[0].at("matched")), "ARRET");
}

TEST_F(WebhookEdges, OriginalBytesAreSealedWithTheBodyWhenBodiesAreEncrypted) {
  const std::string key(32, 'k');
  webhook_bed bed(*redis, "", {}, {}, "gwT", key);
  ASSERT_EQ(bed.post(bed.inbound("twilio", "e1", "+14155552671", acme_number, "STOP\xFF")).first,
            200);
  auto inbound = bed.records_of("inbound");
  ASSERT_EQ(inbound.size(), 1u);
  // Neither the reading nor the bytes are in clear.
  ASSERT_TRUE(inbound[0].at("body").is_object());
  ASSERT_TRUE(inbound[0].at("body_b64").is_object());
  evidence::aes_gcm cipher(key);
  json::object rec = inbound[0];
  ASSERT_FALSE(evidence::decrypt_fields(rec, cipher, str(rec.at("id"))));
  EXPECT_EQ(str(rec.at("body")), "STOP\xEF\xBF\xBD");
  EXPECT_EQ(*carriers::signature::base64_decode(rec.at("body_b64").as_string()), "STOP\xFF");
}

// ---- 3. batched callbacks ----------------------------------------------------------------

TEST_F(WebhookEdges, EveryEventOfABandwidthStatusCallbackIsApplied) {
  webhook_bed bed(*redis);
  // A delivery, then a failure with Bandwidth's opt-out code for another message.
  auto w = fake_carrier::status_batch_webhook(
      bed.carrier("bandwidth"), "https://gw.example.com",
      {{"bw-1", "message-delivered", "", "+14155552671", acme_number},
       {"bw-2", "message-failed", "4775", "+14155552672", acme_number}},
      bed.now());
  auto [status, body] = bed.post(w);
  ASSERT_EQ(status, 200) << body;
  EXPECT_TRUE(has_optout(bed.lookup("+14155552672"), "acme", "carrier:bandwidth"));
  EXPECT_TRUE(bed.lookup("+14155552671").optouts.empty());
  auto st = bed.records_of("status");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(str(st[0].at("status")), "delivered");
  EXPECT_EQ(str(st[1].at("status")), "failed");
  EXPECT_EQ(bed.records_of("optout").size(), 1u);
  EXPECT_EQ(bed.status_stats().applied.load(), 2u);

  // The retry of the whole callback applies nothing twice.
  EXPECT_EQ(bed.post(w).first, 200);
  EXPECT_EQ(bed.records_of("status").size(), 2u);
  EXPECT_EQ(bed.status_stats().duplicates.load(), 2u);
}

TEST_F(WebhookEdges, EachRecipientOfOneMessageIsItsOwnUpdate) {
  // A group message: one id, a message-failed event per recipient.
  webhook_bed bed(*redis);
  auto w = fake_carrier::status_batch_webhook(
      bed.carrier("bandwidth"), "https://gw.example.com",
      {{"bw-g", "message-failed", "4775", "+14155552673", acme_number},
       {"bw-g", "message-failed", "4775", "+14155552674", acme_number}},
      bed.now());
  ASSERT_EQ(bed.post(w).first, 200);
  EXPECT_TRUE(has_optout(bed.lookup("+14155552673"), "acme"));
  EXPECT_TRUE(has_optout(bed.lookup("+14155552674"), "acme"));
  EXPECT_EQ(bed.records_of("status").size(), 2u);
}

TEST_F(WebhookEdges, EveryMessageOfABandwidthInboundCallbackIsApplied) {
  webhook_bed bed(*redis, "[senders.gamma]\nnumbers = [\"+14155552002\"]\nroute = [\"sandbox\"]\n");
  auto w = fake_carrier::inbound_batch_webhook(bed.carrier("bandwidth"), "https://gw.example.com",
                                               {{"bi-1", "+14155552671", acme_number, "hello"},
                                                {"bi-2", "+14155552671", "+14155552002", "STOP"}},
                                               bed.now());
  ASSERT_EQ(bed.post(w).first, 200);
  EXPECT_TRUE(has_optout(bed.lookup("+14155552671"), "gamma"));
  EXPECT_FALSE(has_optout(bed.lookup("+14155552671"), "acme"));
  EXPECT_EQ(bed.records_of("inbound").size(), 2u);
}

// ---- 4. Twilio's spellings of the signed URL ----------------------------------------------

TEST_F(WebhookEdges, TwilioQuoteInTheQueryPassesEitherSpelling) {
  webhook_bed bed(*redis);
  const std::string token = "twilio-token";
  auto w = bed.inbound("twilio", "SM-q", "+14155552671", acme_number, "STOP");
  auto params = *carriers::signature::parse_form(w.body);
  // Twilio signed %27; the request arrives with the quote itself.
  w.path += "?src=o'brien";
  w.headers = {{"X-Twilio-Signature",
                carriers::signature::twilio_sign(
                    token, "https://gw.example.com/v1/inbound/twilio?src=o%27brien", params)}};
  auto [status, body] = bed.post(w);
  ASSERT_EQ(status, 200) << body;
  EXPECT_TRUE(has_optout(bed.lookup("+14155552671"), "acme", "sms:twilio"));

  // Any other difference is still refused.
  auto other = bed.inbound("twilio", "SM-q2", "+14155552672", acme_number, "STOP");
  other.path += "?src=o'brian";
  other.headers = {{"X-Twilio-Signature",
                    carriers::signature::twilio_sign(
                        token, "https://gw.example.com/v1/inbound/twilio?src=o%27brien", params)}};
  EXPECT_EQ(bed.post(other).first, 403);
  EXPECT_TRUE(bed.lookup("+14155552672").optouts.empty());
}

// ---- 10. unknown carrier names ------------------------------------------------------------

TEST_F(WebhookEdges, UnknownCarrierIsAnsweredLikeABadSignature) {
  webhook_bed bed(*redis);
  for (std::string kind : {"inbound", "status"}) {
    // A configured carrier with a forged signature...
    auto known = kind == "inbound"
                     ? bed.inbound("twilio", "SM-f", "+14155552671", acme_number, "STOP")
                     : fake_carrier::status_webhook(
                           bed.carrier("twilio"), "https://gw.example.com",
                           {"SM-f", "delivered", "", "+14155552671", acme_number}, bed.now());
    known.headers = {{"X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
    auto forged = bed.post(known);
    EXPECT_EQ(forged.first, 403) << kind;
    // ... and names that are not configured: the same answer, byte for byte.
    for (std::string name : {"nosuch", "twilio2", ""}) {
      auto unknown = known;
      unknown.path = "/v1/" + kind + "/" + name;
      auto a = bed.post(unknown);
      EXPECT_EQ(a.first, 403) << kind << "/" << name;
      EXPECT_EQ(a.second, forged.second) << kind << "/" << name;
    }
  }
  auto get = bed.inbound("twilio", "SM-g", "+14155552671", acme_number, "STOP");
  get.method = "GET";
  get.path = "/v1/inbound/nosuch?From=%2B14155552671";
  get.body.clear();
  EXPECT_EQ(bed.post(get).first, 403);
  EXPECT_TRUE(bed.records_of("inbound").empty());
  EXPECT_TRUE(bed.records_of("status").empty());
  // Counted as refusals, under one label (not one per name tried).
  EXPECT_EQ(bed.svc().stats().signature_count("(unknown)"), 4u);
  EXPECT_EQ(bed.svc().stats().signature_count("nosuch"), 0u);
  EXPECT_EQ(bed.status_stats().rejected_signature.load(), 4u);  // the forgery and 3 names
}

}  // namespace
}  // namespace stopgate::test
