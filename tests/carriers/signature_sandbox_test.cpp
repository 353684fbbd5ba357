// The sandbox scheme (docs/SIGNATURES.md). The vector was computed independently with
// `printf '1700000000.<body>' | openssl dgst -sha256 -hmac sandbox-secret`.
#include "carriers/sandbox/signature.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;
using namespace std::chrono;

namespace {

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }
system_clock::time_point at(std::int64_t s) { return system_clock::time_point{seconds(s)}; }

constexpr const char* body = R"({"from":"+14155552671","text":"STOP"})";
constexpr const char* vector_sig =
    "sha256=950569fae1926312bf2152fdb9a9a220511cf1dd3b2a223ce8e5df1f3b1a8a37";

sig::webhook_request request(std::string signature, std::string ts = "1700000000") {
  sig::webhook_request r;
  r.method = "POST";
  r.body = body;
  r.content_type = "application/json";
  r.headers = {{"X-Stopgate-Signature", std::move(signature)},
               {"X-Stopgate-Timestamp", std::move(ts)}};
  return r;
}

}  // namespace

TEST(SignatureSandbox, Vector) {
  EXPECT_EQ(sig::sandbox_sign("sandbox-secret", 1700000000, body), vector_sig);
  auto r = sig::verify_sandbox(request(vector_sig), "sandbox-secret", at(1700000000));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.timestamp, 1700000000);
  // Upper-case hex is the same signature.
  std::string upper = vector_sig;
  for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = char(std::toupper(upper[i]));
  EXPECT_TRUE(sig::verify_sandbox(request(upper), "sandbox-secret", at(1700000000)).ok());
}

TEST(SignatureSandbox, NegativeCases) {
  const auto now = at(1700000000);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig), "other", now)), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig), "", now)), verify_errc::bad_key);
  auto flipped = request(vector_sig);
  flipped.body[2] ^= 1;
  EXPECT_EQ(err(sig::verify_sandbox(flipped, "sandbox-secret", now)), verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig, "1700000001"), "sandbox-secret", now)),
            verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig), "sandbox-secret", at(1700000301))),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig), "sandbox-secret", at(1699999699))),
            verify_errc::stale_timestamp);
  EXPECT_EQ(err(sig::verify_sandbox(request("sha1=abcd"), "sandbox-secret", now)),
            verify_errc::unsupported_algorithm);
  EXPECT_EQ(err(sig::verify_sandbox(request("950569fa"), "sandbox-secret", now)),
            verify_errc::bad_header_format);
  EXPECT_EQ(err(sig::verify_sandbox(request("sha256=xyz"), "sandbox-secret", now)),
            verify_errc::bad_header_format);
  EXPECT_EQ(err(sig::verify_sandbox(request(vector_sig, "now"), "sandbox-secret", now)),
            verify_errc::bad_header_format);
  auto missing = request(vector_sig);
  missing.headers.pop_back();
  EXPECT_EQ(err(sig::verify_sandbox(missing, "sandbox-secret", now)), verify_errc::missing_signature);
  auto dup = request(vector_sig);
  dup.headers.push_back(dup.headers[0]);
  EXPECT_EQ(err(sig::verify_sandbox(dup, "sandbox-secret", now)), verify_errc::bad_header_format);
}
