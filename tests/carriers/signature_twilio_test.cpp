// Twilio X-Twilio-Signature. Official vectors from twilio-python
// tests/unit/test_request_validator.py (token "12345"); SharedKey vector self-generated with
// `openssl dgst -sha256 -hmac`.
#include "carriers/twilio/signature.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;

namespace {

constexpr const char* token = "12345";
constexpr const char* url = "https://mycompany.com/myapp.php?foo=1&bar=2";
// CallSid, Digits, From, To, Caller as in the SDK test, urlencoded in a different order.
constexpr const char* form =
    "To=%2B18005551212&CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234"
    "&From=%2B14158675309";
constexpr const char* form_ct = "application/x-www-form-urlencoded; charset=utf-8";

sig::webhook_request form_request(std::string u, std::string signature,
                                  std::string body = form) {
  sig::webhook_request r;
  r.method = "POST";
  r.url = std::move(u);
  r.body = std::move(body);
  r.content_type = form_ct;
  r.headers = {{"X-Twilio-Signature", std::move(signature)}};
  return r;
}

sig::twilio_secrets secrets() { return {token, {}}; }

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }

}  // namespace

TEST(SignatureTwilio, OfficialFormVector) {
  auto r = sig::verify_twilio(form_request(url, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), secrets());
  EXPECT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(sig::twilio_sign(token, url,
                             {{"CallSid", "CA1234567890ABCDE"},
                              {"Digits", "1234"},
                              {"From", "+14158675309"},
                              {"To", "+18005551212"},
                              {"Caller", "+14158675309"}}),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(SignatureTwilio, DuplicateParamsSortedAndDeduplicated) {
  // twilio-python: Sid, SidAccount, Digits=5678, Digits=1234 -> IK+Dwps556ElfBT0I3Rgjkr1wJU=.
  auto req = form_request(url, "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
                          "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234");
  EXPECT_TRUE(sig::verify_twilio(req, secrets()).ok());
  // A repeated identical pair is dropped: the signature is unchanged.
  req.body += "&Digits=1234";
  EXPECT_TRUE(sig::verify_twilio(req, secrets()).ok());
  // A new distinct value changes the signed string.
  req.body += "&Digits=0000";
  EXPECT_EQ(err(sig::verify_twilio(req, secrets())), verify_errc::bad_signature);
}

TEST(SignatureTwilio, PortVariants) {
  // Port removed (https :1234 signed without port).
  EXPECT_TRUE(sig::verify_twilio(
      form_request("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
      secrets()).ok());
  // Signed with the port as given (http :1234).
  EXPECT_TRUE(sig::verify_twilio(
      form_request("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
      secrets()).ok());
  // Signed with the default port added (:443 and :80).
  EXPECT_TRUE(sig::verify_twilio(form_request(url, "kvajT1Ptam85bY51eRf/AJRuM3w="), secrets()).ok());
  EXPECT_TRUE(sig::verify_twilio(
      form_request("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
      secrets()).ok());
}

TEST(SignatureTwilio, OfficialJsonBodyVector) {
  sig::webhook_request req;
  req.method = "POST";
  req.url = std::string(url) +
            "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  req.body = R"({"property": "value", "boolean": true})";
  req.content_type = "application/json";
  req.headers = {{"X-Twilio-Signature", "a9nBmqA0ju/hNViExpshrM61xv4="}};
  EXPECT_TRUE(sig::verify_twilio(req, secrets()).ok());
  EXPECT_EQ(sig::twilio_body_sha256(req.body),
            "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");

  auto tampered = req;
  tampered.body[3] ^= 1;
  EXPECT_EQ(err(sig::verify_twilio(tampered, secrets())), verify_errc::body_hash_mismatch);

  // A JSON body without bodySHA256 in the URL is refused even with a URL-only signature.
  auto no_hash = req;
  no_hash.url = url;
  no_hash.headers = {{"X-Twilio-Signature", sig::twilio_sign(token, url, {})}};
  EXPECT_EQ(err(sig::verify_twilio(no_hash, secrets())), verify_errc::body_hash_mismatch);

  auto bad_hex = req;
  bad_hex.url = std::string(url) + "&bodySHA256=zz";
  EXPECT_EQ(err(sig::verify_twilio(bad_hex, secrets())), verify_errc::body_hash_mismatch);
}

TEST(SignatureTwilio, SharedKeyVariant) {
  sig::twilio_secrets s{token, {{"KEY1", "sk_test_shared_secret"}}};
  auto req = form_request(url, "5XEMldaT6NGZTJiYStEaqwsi2CGHd2pfREC3/1RiC/Y=");
  req.headers.emplace_back("X-Twilio-Webhooks-Signature-Settings", "key=KEY1,algorithm=HMAC_SHA256");
  EXPECT_TRUE(sig::verify_twilio(req, s).ok());

  auto unknown_alg = req;
  unknown_alg.headers[1].second = "key=KEY1,algorithm=HMAC_SHA1";
  EXPECT_EQ(err(sig::verify_twilio(unknown_alg, s)), verify_errc::unsupported_algorithm);

  auto unknown_key = req;
  unknown_key.headers[1].second = "key=KEY2,algorithm=HMAC_SHA256";
  EXPECT_EQ(err(sig::verify_twilio(unknown_key, s)), verify_errc::bad_key);

  auto garbage = req;
  garbage.headers[1].second = "nonsense";
  EXPECT_EQ(err(sig::verify_twilio(garbage, s)), verify_errc::bad_header_format);

  // The Auth Token signature does not pass when the settings header asks for the SharedKey.
  auto token_signed = req;
  token_signed.headers[0].second = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
  EXPECT_EQ(err(sig::verify_twilio(token_signed, s)), verify_errc::bad_signature);
}

TEST(SignatureTwilio, GetWebhookSignsTheUrlOnly) {
  sig::webhook_request req;
  req.method = "GET";
  req.url = "https://example.com/v1/inbound/twilio?From=%2B14155552671&Body=STOP";
  req.headers = {{"X-Twilio-Signature", sig::twilio_sign(token, req.url, {})}};
  EXPECT_TRUE(sig::verify_twilio(req, secrets()).ok());
}

TEST(SignatureTwilio, NegativeCases) {
  auto good = form_request(url, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");

  auto missing = good;
  missing.headers.clear();
  EXPECT_EQ(err(sig::verify_twilio(missing, secrets())), verify_errc::missing_signature);

  EXPECT_EQ(err(sig::verify_twilio(good, {"54321", {}})), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_twilio(good, {"", {}})), verify_errc::bad_key);

  auto flipped_body = good;
  flipped_body.body.replace(flipped_body.body.find("1234&"), 4, "1235");
  EXPECT_EQ(err(sig::verify_twilio(flipped_body, secrets())), verify_errc::bad_signature);

  auto flipped_url = good;
  flipped_url.url = "https://mycompany.com/myapp.php?foo=1&bar=3";
  EXPECT_EQ(err(sig::verify_twilio(flipped_url, secrets())), verify_errc::bad_signature);

  auto flipped_sig = good;
  flipped_sig.headers[0].second = "RSOYDt4T1cUTdK1PDd94/VVr8B8=";
  EXPECT_EQ(err(sig::verify_twilio(flipped_sig, secrets())), verify_errc::bad_signature);

  // Same bytes, non-canonical text (unused low bits set): refused as malformed.
  auto non_canonical = good;
  non_canonical.headers[0].second = "RSOYDt4T1cUTdK1PDd93/VVr8B9=";
  EXPECT_EQ(err(sig::verify_twilio(non_canonical, secrets())), verify_errc::bad_header_format);

  auto bad_b64 = good;
  bad_b64.headers[0].second = "not*base64";
  EXPECT_EQ(err(sig::verify_twilio(bad_b64, secrets())), verify_errc::bad_header_format);

  auto dup = good;
  dup.headers.emplace_back("x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  EXPECT_EQ(err(sig::verify_twilio(dup, secrets())), verify_errc::bad_header_format);

  auto bad_form = good;
  bad_form.body += "&Body=%E";
  EXPECT_EQ(err(sig::verify_twilio(bad_form, secrets())), verify_errc::malformed_params);

  auto bad_url = good;
  bad_url.url = "not a url";
  EXPECT_FALSE(sig::verify_twilio(bad_url, secrets()).ok());
}

TEST(SignatureTwilio, QuoteInTheQueryMatchesEitherSpelling) {
  // Twilio signs the URL as its normaliser writes it: a ' in the query may have been signed
  // as ' or as %27, and reach us spelled the other way (twilio-node tries both).
  const std::string raw = "https://gw.example.com/v1/inbound/twilio?city=Sull'Adda&n=1";
  const std::string enc = "https://gw.example.com/v1/inbound/twilio?city=Sull%27Adda&n=1";
  const sig::param_list params{{"From", "+14155552671"}, {"To", "+14155552000"}};
  const std::string body = "From=%2B14155552671&To=%2B14155552000";
  EXPECT_TRUE(
      sig::verify_twilio(form_request(enc, sig::twilio_sign(token, raw, params), body), secrets())
          .ok());
  EXPECT_TRUE(
      sig::verify_twilio(form_request(raw, sig::twilio_sign(token, enc, params), body), secrets())
          .ok());
  // Combined with a port variant: received with :443, signed without the port and with %27.
  EXPECT_TRUE(sig::verify_twilio(
                  form_request("https://gw.example.com:443/v1/inbound/twilio?city=Sull'Adda&n=1",
                               sig::twilio_sign(token, enc, params), body),
                  secrets())
                  .ok());
  // A GET webhook: every field in the query, the URL alone signed.
  sig::webhook_request get;
  get.method = "GET";
  get.url = "https://gw.example.com/v1/inbound/twilio?Body=I'm+out&From=%2B14155552671";
  get.headers = {{"X-Twilio-Signature",
                  sig::twilio_sign(token,
                                   "https://gw.example.com/v1/inbound/twilio?Body=I%27m+out&From="
                                   "%2B14155552671",
                                   {})}};
  EXPECT_TRUE(sig::verify_twilio(get, secrets()).ok());
}

TEST(SignatureTwilio, OtherSpellingsAreStillRefused) {
  const sig::param_list params{{"From", "+14155552671"}};
  const std::string body = "From=%2B14155552671";
  auto refused = [&](const std::string& signed_url, const std::string& received_url) {
    return err(sig::verify_twilio(
               form_request(received_url, sig::twilio_sign(token, signed_url, params), body),
               secrets())) == verify_errc::bad_signature;
  };
  // Another escaped character is not respelled.
  EXPECT_TRUE(refused("https://gw.example.com/t?x=A", "https://gw.example.com/t?x=%41"));
  EXPECT_TRUE(refused("https://gw.example.com/t?x=a%22b", "https://gw.example.com/t?x=a\"b"));
  // %2527 is an escaped "%27", not a quote.
  EXPECT_TRUE(refused("https://gw.example.com/t?x=a'b", "https://gw.example.com/t?x=a%2527b"));
  // Only the query: a quote in the path is signed as it came.
  EXPECT_TRUE(refused("https://gw.example.com/o%27b?x=1", "https://gw.example.com/o'b?x=1"));
  // A quote in a form value is a decoded parameter, not part of the URL: no variant.
  EXPECT_EQ(err(sig::verify_twilio(form_request("https://gw.example.com/t",
                                                sig::twilio_sign(token, "https://gw.example.com/t",
                                                                 {{"Body", "I%27m out"}}),
                                                "Body=I%27m+out"),
                                   secrets())),
            verify_errc::bad_signature);
  // The quote variant of a wrong token is still wrong.
  EXPECT_EQ(
      err(sig::verify_twilio(
          form_request("https://gw.example.com/t?x=a'b",
                       sig::twilio_sign("54321", "https://gw.example.com/t?x=a%27b", params), body),
          secrets())),
      verify_errc::bad_signature);
}
