// verify_webhook picks each carrier's scheme and secrets from its settings; missing secrets
// refuse (bad_key) rather than accept, except the sandbox's loopback-only unsigned mode.
#include "carriers/sandbox/signature.hpp"
#include "carriers/twilio/signature.hpp"
#include "carriers/signature/verify.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
namespace config = stopgate::config;

namespace {

const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

sig::webhook_request form_post(std::string url, std::string body) {
  sig::webhook_request r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.content_type = "application/x-www-form-urlencoded";
  return r;
}

config::carrier_settings sandbox(std::string secret) {
  config::carrier_settings c;
  c.name = "sandbox";
  c.type = config::carrier_type::sandbox;
  config::sandbox_credentials k;
  if (!secret.empty()) k.webhook_secret = config::secret::from_inline(std::move(secret));
  c.credentials = k;
  return c;
}

TEST(SignatureDispatch, SandboxWithoutSecretAcceptsLoopbackOnly) {
  auto c = sandbox("");
  auto req = form_post("http://127.0.0.1:7601/v1/inbound/sandbox", "From=%2B14155552671&Body=STOP");
  EXPECT_TRUE(sig::verify_webhook(c, req, now, true).ok());
  EXPECT_EQ(sig::verify_webhook(c, req, now, false).error, sig::verify_errc::bad_key);
}

TEST(SignatureDispatch, SandboxWithSecretNeedsTheSignatureEvenFromLoopback) {
  auto c = sandbox("s3cret");
  auto req = form_post("http://127.0.0.1:7601/v1/inbound/sandbox", "{\"body\":\"STOP\"}");
  EXPECT_EQ(sig::verify_webhook(c, req, now, true).error, sig::verify_errc::missing_signature);
  const std::int64_t ts = 1'800'000'000;
  req.headers = {{"X-Stopgate-Signature", sig::sandbox_sign("s3cret", ts, req.body)},
                 {"X-Stopgate-Timestamp", std::to_string(ts)}};
  EXPECT_TRUE(sig::verify_webhook(c, req, now, false).ok());
  req.headers[0].second = sig::sandbox_sign("other", ts, req.body);
  EXPECT_EQ(sig::verify_webhook(c, req, now, false).error, sig::verify_errc::bad_signature);
}

TEST(SignatureDispatch, TwilioUsesTheAuthToken) {
  config::carrier_settings c;
  c.name = "tw";
  c.type = config::carrier_type::twilio;
  c.credentials = config::twilio_credentials{"AC123", config::secret::from_inline("token-1")};
  const std::string url = "https://gw.example.com/v1/inbound/tw";
  auto req = form_post(url, "Body=STOP&From=%2B14155552671&MessageSid=SM1&To=%2B14155552672");
  const sig::param_list params = {{"Body", "STOP"}, {"From", "+14155552671"}, {"MessageSid", "SM1"},
                                  {"To", "+14155552672"}};
  req.headers = {{"X-Twilio-Signature", sig::twilio_sign("token-1", url, params)}};
  EXPECT_TRUE(sig::verify_webhook(c, req, now, false).ok());
  c.credentials = config::twilio_credentials{"AC123", config::secret::from_inline("token-2")};
  EXPECT_EQ(sig::verify_webhook(c, req, now, false).error, sig::verify_errc::bad_signature);
}

TEST(SignatureDispatch, MissingWebhookSecretsRefuse) {
  auto req = form_post("https://gw.example.com/v1/inbound/x", "a=b");
  config::carrier_settings c;
  c.type = config::carrier_type::bandwidth;
  c.credentials = config::bandwidth_credentials{};
  EXPECT_EQ(sig::verify_webhook(c, req, now, true).error, sig::verify_errc::bad_key);
  c.type = config::carrier_type::telnyx;
  c.credentials = config::telnyx_credentials{};
  EXPECT_EQ(sig::verify_webhook(c, req, now, true).error, sig::verify_errc::bad_key);
  c.type = config::carrier_type::sinch;
  c.credentials = config::sinch_credentials{};
  EXPECT_EQ(sig::verify_webhook(c, req, now, true).error, sig::verify_errc::bad_key);
  c.type = config::carrier_type::http;
  c.credentials = config::http_credentials{};
  EXPECT_EQ(sig::verify_webhook(c, req, now, true).error, sig::verify_errc::bad_key);
}

}  // namespace
