// Sinch callback HMAC. Official vector: sinch-sdk-dotnet Conversation WebhooksTests
// ValidateRequest (secret foo_secret1234); the rest self-generated with openssl.
#include "carriers/sinch/signature.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;
using namespace std::chrono;

namespace {

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }
system_clock::time_point at(std::int64_t s) { return system_clock::time_point{seconds(s)}; }

constexpr const char* sdk_body =
    R"({"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},"message_metadata":""})";

sig::webhook_request sdk_request() {
  sig::webhook_request r;
  r.method = "POST";
  r.url = "https://gw.example.com/v1/inbound/sinch";
  r.content_type = "application/json";
  r.body = sdk_body;
  r.headers = {{"x-sinch-webhook-signature-nonce", "01FJA8B4A7BM43YGWSG9GBV067"},
               {"x-sinch-webhook-signature-timestamp", "1634579353"},
               {"x-sinch-webhook-signature", "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE="}};
  return r;
}

}  // namespace

TEST(SignatureSinch, OfficialVector) {
  auto r = sig::verify_sinch(sdk_request(), "foo_secret1234", at(1634579353));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.nonce, "01FJA8B4A7BM43YGWSG9GBV067");
  EXPECT_EQ(r.timestamp, 1634579353);
  auto with_alg = sdk_request();
  with_alg.headers.emplace_back("X-Sinch-Webhook-Signature-Algorithm", "HmacSHA256");
  EXPECT_TRUE(sig::verify_sinch(with_alg, "foo_secret1234", at(1634579353)).ok());
  EXPECT_EQ(sig::sinch_sign("foo_secret1234", sdk_body, "01FJA8B4A7BM43YGWSG9GBV067", 1634579353),
            "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=");
}

TEST(SignatureSinch, SelfGeneratedVector) {
  sig::webhook_request r;
  r.body = R"({"type":"mo_text","body":"STOP"})";
  r.headers = {{"x-sinch-webhook-signature", "3lra4ciwAQfr0Cwk7Q+APVX0oqHh+Zs/zwH/6CVoCUE="},
               {"x-sinch-webhook-signature-nonce", "nonce-abc"},
               {"x-sinch-webhook-signature-timestamp", "1700000000"},
               {"x-sinch-webhook-signature-algorithm", "HmacSHA256"}};
  EXPECT_TRUE(sig::verify_sinch(r, "sinch-secret", at(1700000000)).ok());
}

TEST(SignatureSinch, NegativeCases) {
  const char* secret = "foo_secret1234";
  const auto now = at(1634579353);
  EXPECT_EQ(err(sig::verify_sinch(sdk_request(), "foo_secret1235", now)), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_sinch(sdk_request(), "", now)), verify_errc::bad_key);
  for (std::size_t i = 0; i < 3; ++i) {
    auto missing = sdk_request();
    missing.headers.erase(missing.headers.begin() + std::ptrdiff_t(i));
    EXPECT_EQ(err(sig::verify_sinch(missing, secret, now)), verify_errc::missing_signature);
  }
  auto flipped = sdk_request();
  flipped.body[10] ^= 1;
  EXPECT_EQ(err(sig::verify_sinch(flipped, secret, now)), verify_errc::bad_signature);
  auto other_nonce = sdk_request();
  other_nonce.headers[0].second = "01FJA8B4A7BM43YGWSG9GBV068";
  EXPECT_EQ(err(sig::verify_sinch(other_nonce, secret, now)), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_sinch(sdk_request(), secret, at(1634579353 + 301))),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_sinch(sdk_request(), secret, at(1634579353 - 301))),
            verify_errc::stale_timestamp);
  auto alg = sdk_request();
  alg.headers.emplace_back("x-sinch-webhook-signature-algorithm", "HmacSHA1");
  EXPECT_EQ(err(sig::verify_sinch(alg, secret, now)), verify_errc::unsupported_algorithm);
  auto bad_b64 = sdk_request();
  bad_b64.headers[2].second = "***";
  EXPECT_EQ(err(sig::verify_sinch(bad_b64, secret, now)), verify_errc::bad_header_format);
  auto bad_ts = sdk_request();
  bad_ts.headers[1].second = "-1634579353";
  EXPECT_EQ(err(sig::verify_sinch(bad_ts, secret, now)), verify_errc::bad_header_format);
  auto dup = sdk_request();
  dup.headers.push_back(dup.headers[2]);
  EXPECT_EQ(err(sig::verify_sinch(dup, secret, now)), verify_errc::bad_header_format);
}
