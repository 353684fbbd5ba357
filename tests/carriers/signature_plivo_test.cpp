// Plivo V2/V3. Official vectors: V2 from plivo-go utils_test.go / plivo-java UtilsTest /
// plivo-ruby signature_spec.rb (url https://answer.url, nonce 12345, token my_auth_token);
// V3 GET from plivo-ruby spec/signature_spec.rb. V3 POST vectors are self-generated with
// `openssl dgst -sha256 -hmac` from the algorithm of plivo-python signature_v3.py.
#include "carriers/plivo/signature.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;

namespace {

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }

sig::webhook_request v2_request(std::string url, std::string signature, std::string nonce) {
  sig::webhook_request r;
  r.method = "POST";
  r.url = std::move(url);
  r.content_type = "application/x-www-form-urlencoded";
  r.body = "From=14155552671&To=14155552672&Text=STOP&MessageUUID=abc";
  r.headers = {{"X-Plivo-Signature-V2", std::move(signature)},
               {"X-Plivo-Signature-V2-Nonce", std::move(nonce)}};
  return r;
}

const sig::plivo_secrets secrets{"my_auth_token", ""};

}  // namespace

TEST(SignaturePlivo, OfficialV2Vector) {
  auto req = v2_request("https://answer.url", "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=", "12345");
  auto r = sig::verify_plivo(req, secrets);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.nonce, "12345");
  // The query string is not part of the V2 signature.
  req.url = "https://answer.url?x=1";
  EXPECT_TRUE(sig::verify_plivo_v2(req, secrets).ok());
  EXPECT_EQ(sig::plivo_v2_sign("my_auth_token", "https://answer.url", "12345"),
            "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=");
  // The SDKs' negative case: the same signature under another token.
  EXPECT_EQ(err(sig::verify_plivo(req, {"my_auth_tokens", ""})), verify_errc::bad_signature);
}

TEST(SignaturePlivo, V2KeepsPortAndPath) {
  auto req = v2_request("https://example.com:8443/v1/inbound/plivo?q=1",
                        "EHAkDleIqS+8avk/TttvBVrwFtgmLYk3Clc3HRFTKSs=", "05429567804466091622");
  sig::plivo_secrets s{"tok", ""};
  EXPECT_TRUE(sig::verify_plivo_v2(req, s).ok());
  req.url = "https://example.com/v1/inbound/plivo";
  EXPECT_EQ(err(sig::verify_plivo_v2(req, s)), verify_errc::bad_signature);
}

TEST(SignaturePlivo, V2MainAccountHeader) {
  auto req = v2_request("https://answer.url", "", "12345");
  req.headers = {{"X-Plivo-Signature-Ma-V2", "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="},
                 {"X-Plivo-Signature-V2-Nonce", "12345"}};
  // Without a main-account token configured the Ma header cannot be checked.
  EXPECT_EQ(err(sig::verify_plivo_v2(req, {"sub_token", ""})), verify_errc::bad_key);
  EXPECT_TRUE(sig::verify_plivo_v2(req, {"sub_token", "my_auth_token"}).ok());
  // Either header passing is enough.
  req.headers.emplace_back("X-Plivo-Signature-V2", "AAAA");
  EXPECT_TRUE(sig::verify_plivo_v2(req, {"sub_token", "my_auth_token"}).ok());
}

TEST(SignaturePlivo, OfficialV3GetVector) {
  sig::webhook_request req;
  req.method = "GET";
  req.url = "https://answer.url/?CallUUID=97ceeb52-58b6-11e1-86da-77300b68f8bb&Duration=300";
  req.headers = {{"X-Plivo-Signature-V3", "pETJPPuss8j7tRO1V76pMhutvY1EbD905bph1xlJQhE="},
                 {"X-Plivo-Signature-V3-Nonce", "12345"}};
  auto r = sig::verify_plivo(req, secrets);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.nonce, "12345");
  // The SDKs' negative vector (last character changed).
  req.headers[0].second = "rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I+";
  EXPECT_EQ(err(sig::verify_plivo(req, secrets)), verify_errc::bad_signature);
}

TEST(SignaturePlivo, V3PostVectors) {
  sig::webhook_request req;
  req.method = "POST";
  req.url = "https://example.com/v1/inbound/plivo";
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "To=%2B14155552672&Text=STOP+%26+ok%3D1&From=%2B14155552671";
  req.headers = {{"X-Plivo-Signature-V3", "nj4h9i3L+c0PQKTh6rDmWovNaAR+gkaikC1oPwpBofY="},
                 {"X-Plivo-Signature-V3-Nonce", "nonce-1"}};
  sig::plivo_secrets s{"tok", ""};
  EXPECT_EQ(sig::plivo_v3_signed_string("POST", req.url,
                                        {{"To", "+14155552672"},
                                         {"Text", "STOP & ok=1"},
                                         {"From", "+14155552671"}}),
            "https://example.com/v1/inbound/plivo?From+14155552671TextSTOP & ok=1To+14155552672");
  EXPECT_TRUE(sig::verify_plivo(req, s).ok());

  // Query and POST params: "?a=1&b=x y" + "." + params.
  sig::webhook_request with_query = req;
  with_query.url = "https://example.com/v1/status/plivo?b=x+y&a=1";
  with_query.body = "Status=delivered&MessageUUID=abc";
  with_query.headers = {{"X-Plivo-Signature-V3", "1ypp2Dc+w3bs3S8FsLchGmNgHgB2Nd6pX3RBchswMaU="},
                        {"X-Plivo-Signature-V3-Nonce", "n2"}};
  EXPECT_TRUE(sig::verify_plivo(with_query, s).ok());

  // GET merges and sorts all params as k=v.
  sig::webhook_request get;
  get.method = "GET";
  get.url = "https://example.com/v1/status/plivo?Status=delivered&a=1&MessageUUID=abc";
  get.headers = {{"X-Plivo-Signature-V3", "BScpyvLa+GJJw9mqqDX27TbZEs488moziQPR1/eteFM="},
                 {"X-Plivo-Signature-V3-Nonce", "n3"}};
  EXPECT_TRUE(sig::verify_plivo(get, s).ok());
  EXPECT_EQ(sig::plivo_v3_sign("tok", "GET", get.url, "n3", {}),
            "BScpyvLa+GJJw9mqqDX27TbZEs488moziQPR1/eteFM=");
}

TEST(SignaturePlivo, V3AcceptsAnyOfSeveralSignatures) {
  sig::webhook_request req;
  req.method = "POST";
  req.url = "https://example.com/v1/inbound/plivo";
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "To=%2B14155552672&Text=STOP+%26+ok%3D1&From=%2B14155552671";
  req.headers = {{"X-Plivo-Signature-V3",
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, "
                  "nj4h9i3L+c0PQKTh6rDmWovNaAR+gkaikC1oPwpBofY="},
                 {"X-Plivo-Signature-V3-Nonce", "nonce-1"}};
  EXPECT_TRUE(sig::verify_plivo(req, {"tok", ""}).ok());
  req.headers[0].second = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,bad**";
  EXPECT_EQ(err(sig::verify_plivo(req, {"tok", ""})), verify_errc::bad_signature);
}

TEST(SignaturePlivo, NegativeCases) {
  auto good = v2_request("https://answer.url", "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=", "12345");

  auto no_sig = good;
  no_sig.headers.erase(no_sig.headers.begin());
  EXPECT_EQ(err(sig::verify_plivo(no_sig, secrets)), verify_errc::missing_signature);

  auto no_nonce = good;
  no_nonce.headers.pop_back();
  EXPECT_EQ(err(sig::verify_plivo(no_nonce, secrets)), verify_errc::missing_signature);

  auto other_nonce = good;
  other_nonce.headers[1].second = "12346";
  EXPECT_EQ(err(sig::verify_plivo(other_nonce, secrets)), verify_errc::bad_signature);

  auto other_path = good;
  other_path.url = "https://answer.url/x";
  EXPECT_EQ(err(sig::verify_plivo(other_path, secrets)), verify_errc::bad_signature);

  auto dup = good;
  dup.headers.push_back(good.headers[0]);
  EXPECT_EQ(err(sig::verify_plivo(dup, secrets)), verify_errc::bad_header_format);

  EXPECT_EQ(err(sig::verify_plivo(good, {"", ""})), verify_errc::bad_key);

  sig::webhook_request v3;
  v3.method = "POST";
  v3.url = "https://example.com/v1/inbound/plivo";
  v3.content_type = "application/x-www-form-urlencoded";
  v3.body = "Text=%ZZ";
  v3.headers = {{"X-Plivo-Signature-V3", "AAAA"}, {"X-Plivo-Signature-V3-Nonce", "n"}};
  EXPECT_EQ(err(sig::verify_plivo(v3, secrets)), verify_errc::malformed_params);

  // One flipped param value changes the V3 string.
  sig::webhook_request flip;
  flip.method = "POST";
  flip.url = "https://example.com/v1/inbound/plivo";
  flip.content_type = "application/x-www-form-urlencoded";
  flip.body = "To=%2B14155552672&Text=STOP+%26+ok%3D2&From=%2B14155552671";
  flip.headers = {{"X-Plivo-Signature-V3", "nj4h9i3L+c0PQKTh6rDmWovNaAR+gkaikC1oPwpBofY="},
                  {"X-Plivo-Signature-V3-Nonce", "nonce-1"}};
  EXPECT_EQ(err(sig::verify_plivo(flip, {"tok", ""})), verify_errc::bad_signature);
}
