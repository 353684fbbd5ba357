// Telnyx Ed25519 scheme. Telnyx publishes no fixed vectors (its SDK tests generate keys at
// run time), so these use a key pair generated here with OpenSSL plus the RFC 8032 TEST 2
// seed for a fully deterministic vector.
#include "carriers/telnyx/signature.hpp"

#include <gtest/gtest.h>
#include <openssl/rand.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;
using namespace std::chrono;

namespace {

constexpr std::int64_t t0 = 1700000000;
const system_clock::time_point now{seconds(t0)};
constexpr const char* body =
    R"({"data":{"event_type":"message.received","id":"b301ed3f","payload":{"text":"STOP"}}})";

std::string random_seed() {
  std::string seed(32, '\0');
  EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32), 1);
  return seed;
}

sig::webhook_request signed_request(const std::string& seed, std::int64_t ts) {
  sig::webhook_request r;
  r.method = "POST";
  r.url = "https://gw.example.com/v1/inbound/telnyx";
  r.body = body;
  r.content_type = "application/json";
  r.headers = {{"Telnyx-Signature-Ed25519", sig::telnyx_sign(seed, ts, body).value()},
               {"Telnyx-Timestamp", std::to_string(ts)}};
  return r;
}

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }

}  // namespace

TEST(SignatureTelnyx, DeterministicVectorWithRfc8032Seed) {
  std::string seed = sig::hex_decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb").value();
  auto key = sig::ed25519_public_from_seed(seed).value();
  auto req = signed_request(seed, t0);
  // Ed25519 is deterministic: the same seed and message always give the same signature.
  EXPECT_EQ(req.headers[0].second, sig::telnyx_sign(seed, t0, body).value());
  auto r = sig::verify_telnyx(req, key, now);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.timestamp, t0);
}

TEST(SignatureTelnyx, GeneratedKeyPairAndNegatives) {
  std::string seed = random_seed();
  auto key = sig::ed25519_public_from_seed(seed).value();
  auto good = signed_request(seed, t0);
  EXPECT_TRUE(sig::verify_telnyx(good, key, now).ok());
  // Headers are looked up case-insensitively.
  auto lower = good;
  lower.headers[0].first = "telnyx-signature-ed25519";
  EXPECT_TRUE(sig::verify_telnyx(lower, key, now).ok());

  auto flipped = good;
  flipped.body[5] ^= 1;
  EXPECT_EQ(err(sig::verify_telnyx(flipped, key, now)), verify_errc::bad_signature);

  // The timestamp is signed: changing it breaks the signature.
  auto moved = good;
  moved.headers[1].second = std::to_string(t0 + 1);
  EXPECT_EQ(err(sig::verify_telnyx(moved, key, now)), verify_errc::bad_signature);

  auto other_key = sig::ed25519_public_from_seed(random_seed()).value();
  EXPECT_EQ(err(sig::verify_telnyx(good, other_key, now)), verify_errc::bad_signature);

  auto missing = good;
  missing.headers.pop_back();
  EXPECT_EQ(err(sig::verify_telnyx(missing, key, now)), verify_errc::missing_signature);

  auto dup = good;
  dup.headers.push_back(good.headers[0]);
  EXPECT_EQ(err(sig::verify_telnyx(dup, key, now)), verify_errc::bad_header_format);

  auto short_sig = good;
  short_sig.headers[0].second = sig::base64_encode(std::string(63, 'x'));
  EXPECT_EQ(err(sig::verify_telnyx(short_sig, key, now)), verify_errc::bad_header_format);

  auto bad_b64 = good;
  bad_b64.headers[0].second = "%%%";
  EXPECT_EQ(err(sig::verify_telnyx(bad_b64, key, now)), verify_errc::bad_header_format);

  auto bad_ts = good;
  bad_ts.headers[1].second = "17e8";
  EXPECT_EQ(err(sig::verify_telnyx(bad_ts, key, now)), verify_errc::bad_header_format);
}

TEST(SignatureTelnyx, ReplayWindowBothWays) {
  std::string seed = random_seed();
  auto key = sig::ed25519_public_from_seed(seed).value();
  EXPECT_TRUE(sig::verify_telnyx(signed_request(seed, t0 - 300), key, now).ok());
  EXPECT_TRUE(sig::verify_telnyx(signed_request(seed, t0 + 300), key, now).ok());
  EXPECT_EQ(err(sig::verify_telnyx(signed_request(seed, t0 - 301), key, now)),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_telnyx(signed_request(seed, t0 + 301), key, now)),
            verify_errc::stale_timestamp);
  // A custom window is honoured.
  EXPECT_TRUE(sig::verify_telnyx(signed_request(seed, t0 - 900), key, now, seconds(1000)).ok());
}
