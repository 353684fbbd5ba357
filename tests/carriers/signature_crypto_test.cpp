// Primitives under the webhook schemes: codecs, HMAC, Ed25519 (RFC 8032 section 7.1), the
// shared form/url/timestamp parsing.
#include "carriers/signature/crypto.hpp"
#include "carriers/signature/webhook_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sig = stopgate::carriers::signature;

namespace {

std::string unhex(std::string_view h) { return sig::hex_decode(h).value(); }

sig::ed25519_public_key key_of(std::string_view hex) {
  auto raw = unhex(hex);
  sig::ed25519_public_key k{};
  for (std::size_t i = 0; i < 32; ++i) k[i] = static_cast<unsigned char>(raw[i]);
  return k;
}

struct rfc8032_case {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1 to TEST 3.
const rfc8032_case rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
};

}  // namespace

TEST(SignatureCrypto, Rfc8032VectorsVerifyAndSign) {
  for (const auto& c : rfc8032) {
    SCOPED_TRACE(c.public_key);
    auto key = key_of(c.public_key);
    std::string msg = unhex(c.message), sig_bytes = unhex(c.signature);
    EXPECT_TRUE(sig::ed25519_verify(key, sig_bytes, msg));
    EXPECT_EQ(sig::ed25519_sign(unhex(c.secret), msg).value(), sig_bytes);
    EXPECT_EQ(sig::ed25519_public_from_seed(unhex(c.secret)).value(), key);
    // One flipped bit of message or signature fails.
    std::string bad_sig = sig_bytes;
    bad_sig[10] ^= 1;
    EXPECT_FALSE(sig::ed25519_verify(key, bad_sig, msg));
    EXPECT_FALSE(sig::ed25519_verify(key, sig_bytes, msg + "x"));
    EXPECT_FALSE(sig::ed25519_verify(key, sig_bytes.substr(0, 63), msg));
  }
}

TEST(SignatureCrypto, Ed25519PublicKeyParsing) {
  auto key = key_of(rfc8032[0].public_key);
  std::string b64 = sig::base64_encode(std::string(key.begin(), key.end()));
  EXPECT_EQ(sig::parse_ed25519_public_key(b64).value(), key);
  EXPECT_FALSE(sig::parse_ed25519_public_key(sig::base64_encode(std::string(31, 'a'))));
  EXPECT_FALSE(sig::parse_ed25519_public_key(sig::base64_encode(std::string(33, 'a'))));
  EXPECT_FALSE(sig::parse_ed25519_public_key("not base64!"));
}

TEST(SignatureCrypto, HmacKnownAnswers) {
  // RFC 4231 test case 2 (HMAC-SHA256) and RFC 2202 test case 2 (HMAC-SHA1, HMAC-MD5).
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha1, "Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::md5, "Jefe", "what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_EQ(sig::hex_encode(sig::digest(sig::digest_alg::sha256, "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2 (HMAC-SHA512), and the keys longer than a block, which are hashed
  // first: RFC 4231 test case 6 (131-byte key) and RFC 2202 test case 6 (80-byte key).
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha512, "Jefe", "what do ya want for nothing?")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  const std::string long_msg = "Test Using Larger Than Block-Size Key - Hash Key First";
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha256, std::string(131, '\xaa'), long_msg)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha512, std::string(131, '\xaa'), long_msg)),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha1, std::string(80, '\xaa'), long_msg)),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::md5, std::string(80, '\xaa'), long_msg)),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
  // A key of exactly one block is used as it is.
  EXPECT_EQ(sig::hex_encode(sig::hmac(sig::digest_alg::sha256, std::string(64, 'k'), "m")),
            "3b7a8d453e76edb519238a515105a57508d0f169f480ebeee120a9e7803289fa");
  // An empty key is a valid (if useless) HMAC key and must not crash.
  EXPECT_EQ(sig::hmac(sig::digest_alg::sha256, "", "x").size(), 32u);
}

TEST(SignatureCrypto, Base64RoundTripAndStrictness) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(sig::base64_decode(sig::base64_encode(s)).value(), s);
    EXPECT_EQ(sig::base64url_decode(sig::base64url_encode(s)).value(), s);
  }
  EXPECT_EQ(sig::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(sig::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(sig::base64_decode("Zm8").value(), "fo");  // missing padding tolerated
  EXPECT_FALSE(sig::base64_decode("Zm8=="));             // wrong padding
  EXPECT_FALSE(sig::base64_decode("Z"));                 // a lone sextet carries no byte
  EXPECT_FALSE(sig::base64_decode("Zm 8="));
  EXPECT_FALSE(sig::base64_decode("Zm-_"));              // url alphabet in std decoder
  EXPECT_FALSE(sig::base64url_decode("Zm8="));           // JWT parts carry no padding
  EXPECT_FALSE(sig::base64url_decode("Zm+/"));
  EXPECT_FALSE(sig::base64_decode("Zm9="));  // "fo" with non-zero unused bits
}

TEST(SignatureCrypto, HexAndConstantTimeCompare) {
  EXPECT_EQ(sig::hex_decode("00fFaB").value(), std::string("\x00\xff\xab", 3));
  EXPECT_FALSE(sig::hex_decode("abc"));
  EXPECT_FALSE(sig::hex_decode("zz"));
  EXPECT_TRUE(sig::constant_time_equal("abc", "abc"));
  EXPECT_TRUE(sig::constant_time_equal("", ""));
  EXPECT_FALSE(sig::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(sig::constant_time_equal("abc", "abcd"));
}

TEST(SignatureRequest, FormDecoding) {
  auto p = sig::parse_form("Body=STOP+now&From=%2B14155552671&&empty=&flag&x=%e2%9c%93");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 5u);
  EXPECT_EQ((*p)[0], (std::pair<std::string, std::string>{"Body", "STOP now"}));
  EXPECT_EQ((*p)[1].second, "+14155552671");
  EXPECT_EQ((*p)[2], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_EQ((*p)[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ((*p)[4].second, "\xe2\x9c\x93");
  for (std::string_view bad : {"a=%", "a=%2", "a=%zz", "%g0=1", "a=1%"}) {
    auto r = sig::parse_form(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), sig::verify_errc::malformed_params);
  }
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "a=1&";
  EXPECT_FALSE(sig::parse_form(many));
}

TEST(SignatureRequest, HeaderLookupIsCaseInsensitiveAndFlagsDuplicates) {
  sig::webhook_request req;
  req.headers = {{"x-twilio-signature", "a"}, {"Other", "b"}, {"OTHER", "c"}};
  auto one = sig::find_header(req, "X-Twilio-Signature");
  EXPECT_EQ(one.st, sig::header_lookup::state::one);
  EXPECT_EQ(one.value, "a");
  EXPECT_EQ(sig::find_header(req, "other").st, sig::header_lookup::state::duplicate);
  EXPECT_EQ(sig::find_header(req, "missing").st, sig::header_lookup::state::absent);
}

TEST(SignatureRequest, UrlSplitting) {
  auto p = sig::split_url("https://u:p@example.com:8443/v1/inbound?x=1#frag");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->userinfo, "u:p");
  EXPECT_EQ(p->host, "example.com");
  EXPECT_EQ(p->port, "8443");
  EXPECT_EQ(p->path, "/v1/inbound");
  EXPECT_EQ(p->query, "x=1");
  auto v6 = sig::split_url("http://[::1]:80/a");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, "80");
  auto bare = sig::split_url("https://example.com");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "");
  EXPECT_FALSE(bare->has_query);
  EXPECT_FALSE(sig::split_url("example.com/path"));
  EXPECT_FALSE(sig::split_url("https://:80/x"));
  EXPECT_FALSE(sig::split_url("https://host:8x/x"));
}

TEST(SignatureRequest, TimestampsAndWindow) {
  using namespace std::chrono;
  EXPECT_EQ(sig::parse_unix_seconds("1700000000").value(), 1700000000);
  for (std::string_view bad : {"", "-1", "+1", " 1", "1.5", "1e9", "1234567890123456789"})
    EXPECT_FALSE(sig::parse_unix_seconds(bad)) << bad;
  system_clock::time_point now{seconds(1700000000)};
  EXPECT_TRUE(sig::fresh(1700000000 - 300, now, seconds(300)));
  EXPECT_TRUE(sig::fresh(1700000000 + 300, now, seconds(300)));
  EXPECT_FALSE(sig::fresh(1700000000 - 301, now, seconds(300)));
  EXPECT_FALSE(sig::fresh(1700000000 + 301, now, seconds(300)));
}

TEST(SignatureRequest, ErrorCategoryNamesEveryCode) {
  for (int e = 1; e <= int(sig::verify_errc::malformed_params); ++e) {
    auto ec = make_error_code(sig::verify_errc(e));
    EXPECT_NE(ec.message(), "unknown signature error");
  }
}
