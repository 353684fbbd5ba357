// Vonage SMS API signed params and Messages API JWT. Official vectors: vonage-php-sdk-core
// test/Client/SignatureTest.php, vonage-python-sdk (check_signature: a=1, b=2, secret
// "secret"; vonage_jwt tests/test_verify_jwt.py token).
#include "carriers/vonage/signature.hpp"

#include "carriers/signature/crypto.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;
using sig::vonage_sig_method;
using namespace std::chrono;

namespace {

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }
system_clock::time_point at(std::int64_t s) { return system_clock::time_point{seconds(s)}; }

sig::webhook_request get_request(std::string query) {
  sig::webhook_request r;
  r.method = "GET";
  r.url = "https://gw.example.com/v1/inbound/vonage?" + std::move(query);
  return r;
}

// PHP inbound vector params (message-timestamp 2013-11-21 15:27:30, timestamp 1385047698).
constexpr const char* php_inbound =
    "message-timestamp=2013-11-21+15%3A27%3A30&messageId=020000001B0FE827&msisdn=14843472194"
    "&text=Test+again&timestamp=1385047698&to=13239877404&type=text";
constexpr std::int64_t php_ts = 1385047698;
constexpr const char* php_secret = "my_secret_key_for_testing";

}  // namespace

TEST(SignatureVonageSms, PhpInboundVectorsAllMethods) {
  struct {
    vonage_sig_method method;
    const char* sig;
  } cases[] = {
      {vonage_sig_method::md5hash, "d2e7b1dc968737c5998ad624e02f90b7"},
      {vonage_sig_method::md5, "DDEBD46008C2D4E93CCE578A332A52D5"},
      {vonage_sig_method::sha1, "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"},
      {vonage_sig_method::sha256, "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"},
      {vonage_sig_method::sha512,
       "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D"
       "5BA3A256C0D763AC4A9AD9144B5A426B94FE82"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sig);
    auto req = get_request(std::string(php_inbound) + "&sig=" + c.sig);
    auto r = sig::verify_vonage_sms(req, {php_secret, c.method}, at(php_ts + 10));
    EXPECT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.timestamp, php_ts);
    // Wrong method for this signature fails.
    auto other = c.method == vonage_sig_method::md5hash ? vonage_sig_method::sha256
                                                        : vonage_sig_method::md5hash;
    EXPECT_EQ(err(sig::verify_vonage_sms(req, {php_secret, other}, at(php_ts))),
              verify_errc::bad_signature);
  }
}

TEST(SignatureVonageSms, AmpersandAndEqualsBecomeUnderscores) {
  // PHP vector: text "Test with & and =" with keyword and nonce; sent as a form POST.
  sig::webhook_request req;
  req.method = "POST";
  req.url = "https://gw.example.com/v1/inbound/vonage";
  req.content_type = "application/x-www-form-urlencoded";
  req.body =
      "keyword=TEST&message-timestamp=2017-04-04+22%3A57%3A47&messageId=0B00000042AC53BD"
      "&msisdn=14843472194&nonce=929d6744-bd28-42c8-b6cf-31d5b4f43732"
      "&sig=e06d9763e3fd0b9c31beb5fc2fcb011c&text=Test+with+%26+and+%3D&timestamp=1491346667"
      "&to=12192259404&type=text";
  auto r = sig::verify_vonage_sms(req, {php_secret, vonage_sig_method::md5hash}, at(1491346667));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.nonce, "929d6744-bd28-42c8-b6cf-31d5b4f43732");
}

TEST(SignatureVonageSms, SigningHelperMatchesSdkVectors) {
  sig::param_list ab = {{"a", "1"}, {"b", "2"}, {"timestamp", "1461605396"}};
  EXPECT_EQ(sig::vonage_sign(ab, "secret", vonage_sig_method::md5hash),
            "6af838ef94998832dbfc29020b564830");
  // PHP outbound HMAC vectors.
  sig::param_list out = {{"api_key", "fake_api_key"}, {"to", "14155550100"}, {"from", "AcmeInc"},
                         {"text", "Test From Nexmo"}, {"type", "text"}, {"timestamp", "1540924779"}};
  const char* secret = "71efab63122f1d179f51c46bac838fb5";
  EXPECT_EQ(sig::vonage_sign(out, secret, vonage_sig_method::md5), "51cdafebb4bbce9525b195c1617cb8d2");
  EXPECT_EQ(sig::vonage_sign(out, secret, vonage_sig_method::sha1),
            "0162aec64bc183b2e1256545951fe5639dc98020");
  // PHP vector signed with an empty secret; a sig param passed in is ignored.
  sig::param_list empty_secret = {{"message-timestamp", "2013-11-21 17:31:42"},
                                  {"messageId", "030000002A264B8B"}, {"msisdn", "14843472194"},
                                  {"text", "Message test"}, {"timestamp", "1385055102"},
                                  {"to", "14849970568"}, {"type", "text"},
                                  {"sig", "f0bfad43bd90cf1ea1f1525c18ba4dab"}};
  EXPECT_EQ(sig::vonage_sign(empty_secret, "", vonage_sig_method::md5hash),
            "f0bfad43bd90cf1ea1f1525c18ba4dab");
}

TEST(SignatureVonageSms, JsonBody) {
  sig::param_list params = {{"msisdn", "14155552671"}, {"to", "14155552672"}, {"text", "STOP"},
                            {"timestamp", "1700000000"}, {"nonce", "n-1"}};
  std::string s = sig::vonage_sign(params, "sek", vonage_sig_method::sha256);
  sig::webhook_request req;
  req.method = "POST";
  req.url = "https://gw.example.com/v1/inbound/vonage";
  req.content_type = "application/json";
  req.body = R"({"msisdn":"14155552671","to":"14155552672","text":"STOP","timestamp":"1700000000","nonce":"n-1","sig":")" +
             s + "\"}";
  EXPECT_TRUE(sig::verify_vonage_sms(req, {"sek", vonage_sig_method::sha256}, at(1700000000)).ok());
  auto nested = req;
  nested.body = R"({"sig":"00","timestamp":"1","x":{"y":1}})";
  EXPECT_EQ(err(sig::verify_vonage_sms(nested, {"sek", vonage_sig_method::sha256}, at(1))),
            verify_errc::malformed_params);
  auto not_json = req;
  not_json.body = "{";
  EXPECT_EQ(err(sig::verify_vonage_sms(not_json, {"sek", vonage_sig_method::sha256}, at(1))),
            verify_errc::malformed_params);
}

TEST(SignatureVonageSms, NegativeCases) {
  const sig::vonage_sms_secrets s{php_secret, vonage_sig_method::md5hash};
  std::string good_q = std::string(php_inbound) + "&sig=d2e7b1dc968737c5998ad624e02f90b7";
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(php_inbound), s, at(php_ts))),
            verify_errc::missing_signature);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q), {"other", vonage_sig_method::md5hash},
                                       at(php_ts))),
            verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q), {"", vonage_sig_method::md5hash},
                                       at(php_ts))),
            verify_errc::bad_key);
  std::string flipped = good_q;
  flipped.replace(flipped.find("again"), 5, "agaim");
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(flipped), s, at(php_ts))),
            verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q), s, at(php_ts + 301))),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q), s, at(php_ts - 301))),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q + "&sig=00"), s, at(php_ts))),
            verify_errc::bad_header_format);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(std::string(php_inbound) + "&sig=xyz"), s,
                                       at(php_ts))),
            verify_errc::bad_header_format);
  EXPECT_EQ(err(sig::verify_vonage_sms(get_request(good_q + "&x=%4"), s, at(php_ts))),
            verify_errc::malformed_params);
}

TEST(SignatureVonageJwt, PythonSdkToken) {
  // vonage_jwt tests: HS256 token (iat 1697634680, no payload_hash) and its secret.
  sig::webhook_request req;
  req.method = "POST";
  req.body = R"({"status":"delivered"})";
  req.headers = {
      {"Authorization",
       "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2"
       "OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_"
       "HQHZTC29y6CGM"}};
  auto r = sig::verify_vonage_jwt(req, "qwertyuiopasdfghjklzxcvbnm123456", at(1697634680 + 5));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.timestamp, 1697634680);
  EXPECT_EQ(err(sig::verify_vonage_jwt(req, "asdf", at(1697634680))), verify_errc::bad_signature);
}

TEST(SignatureVonageJwt, GeneratedTokensAndNegatives) {
  const std::string secret = "vonage-signature-secret";
  const std::int64_t iat = 1700000000;
  sig::webhook_request req;
  req.method = "POST";
  req.body = R"({"message_uuid":"aaaaaaaa-bbbb","text":"STOP"})";
  req.headers = {{"Authorization", "Bearer " + sig::vonage_jwt_sign(secret, iat, req.body, "jti-1")}};
  auto r = sig::verify_vonage_jwt(req, secret, at(iat));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.nonce, "jti-1");

  auto tampered = req;
  tampered.body[3] ^= 1;
  EXPECT_EQ(err(sig::verify_vonage_jwt(tampered, secret, at(iat))), verify_errc::body_hash_mismatch);
  EXPECT_EQ(err(sig::verify_vonage_jwt(req, secret, at(iat + 301))), verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_vonage_jwt(req, secret, at(iat - 301))), verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_vonage_jwt(req, "wrong", at(iat))), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_vonage_jwt(req, "", at(iat))), verify_errc::bad_key);

  auto with = [&](std::string auth) {
    auto copy = req;
    copy.headers = {{"Authorization", std::move(auth)}};
    return err(sig::verify_vonage_jwt(copy, secret, at(iat)));
  };
  std::string claims = R"({"iat":1700000000})";
  // alg "none" with an empty signature, and other algorithms, are refused.
  EXPECT_EQ(with("Bearer " + sig::base64url_encode(R"({"alg":"none"})") + "." +
                 sig::base64url_encode(claims) + "."),
            verify_errc::unsupported_algorithm);
  EXPECT_EQ(with("Bearer " + sig::jwt_hs256_encode(secret, R"({"alg":"HS512"})", claims)),
            verify_errc::unsupported_algorithm);
  EXPECT_EQ(with("Bearer " + sig::jwt_hs256_encode(secret, R"({"typ":"JWT"})", claims)),
            verify_errc::unsupported_algorithm);
  // No iat, an expired exp, a non-hex payload_hash.
  EXPECT_EQ(with("Bearer " + sig::jwt_hs256_encode(secret, R"({"alg":"HS256"})", "{}")),
            verify_errc::bad_header_format);
  EXPECT_EQ(with("Bearer " + sig::jwt_hs256_encode(secret, R"({"alg":"HS256"})",
                                                   R"({"iat":1700000000,"exp":1700000000})")),
            verify_errc::stale_timestamp);
  EXPECT_EQ(with("Bearer " + sig::jwt_hs256_encode(secret, R"({"alg":"HS256"})",
                                                   R"({"iat":1700000000,"payload_hash":"zz"})")),
            verify_errc::body_hash_mismatch);
  // Malformed tokens.
  EXPECT_EQ(with("Bearer a.b"), verify_errc::bad_header_format);
  EXPECT_EQ(with("Bearer a.b.c.d"), verify_errc::bad_header_format);
  EXPECT_EQ(with("Bearer !!.!!.!!"), verify_errc::bad_header_format);
  EXPECT_EQ(with("Bearer " + std::string(9000, 'a')), verify_errc::bad_header_format);
  EXPECT_EQ(with("Basic dXNlcjpwYXNz"), verify_errc::missing_signature);
  auto missing = req;
  missing.headers.clear();
  EXPECT_EQ(err(sig::verify_vonage_jwt(missing, secret, at(iat))), verify_errc::missing_signature);
  auto dup = req;
  dup.headers.push_back(req.headers[0]);
  EXPECT_EQ(err(sig::verify_vonage_jwt(dup, secret, at(iat))), verify_errc::bad_header_format);
}
