// Bandwidth callback Basic auth.
#include "carriers/bandwidth/signature.hpp"

#include <gtest/gtest.h>

namespace sig = stopgate::carriers::signature;
using sig::verify_errc;

namespace {

verify_errc err(const sig::verify_result& r) { return verify_errc(r.error.value()); }

sig::webhook_request with_auth(std::string value) {
  sig::webhook_request r;
  r.method = "POST";
  r.body = R"([{"type":"message-received"}])";
  r.headers = {{"Authorization", std::move(value)}};
  return r;
}

const sig::bandwidth_credentials creds{"bw-callback", "s3cret:with:colons"};

}  // namespace

TEST(SignatureBandwidth, BasicAuth) {
  EXPECT_EQ(sig::bandwidth_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617 section 2 example
  EXPECT_TRUE(sig::verify_bandwidth(
      with_auth(sig::bandwidth_authorization(creds.username, creds.password)), creds).ok());
  // The scheme name is case-insensitive.
  auto lower = sig::bandwidth_authorization(creds.username, creds.password);
  lower.replace(0, 5, "basic");
  EXPECT_TRUE(sig::verify_bandwidth(with_auth(lower), creds).ok());
}

TEST(SignatureBandwidth, NegativeCases) {
  EXPECT_EQ(err(sig::verify_bandwidth(with_auth(sig::bandwidth_authorization("bw-callback", "s3cret")),
                                      creds)),
            verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_bandwidth(
                with_auth(sig::bandwidth_authorization("bw-callbacK", creds.password)), creds)),
            verify_errc::bad_signature);
  EXPECT_EQ(err(sig::verify_bandwidth(with_auth("Bearer abc"), creds)),
            verify_errc::missing_signature);
  EXPECT_EQ(err(sig::verify_bandwidth(with_auth("Basic ***"), creds)),
            verify_errc::bad_header_format);
  EXPECT_EQ(err(sig::verify_bandwidth(with_auth("Basic bm9jb2xvbg=="), creds)),  // "nocolon"
            verify_errc::bad_header_format);
  auto good = sig::bandwidth_authorization(creds.username, creds.password);
  EXPECT_EQ(err(sig::verify_bandwidth(with_auth(good), {"", ""})), verify_errc::bad_key);
  auto none = with_auth(good);
  none.headers.clear();
  EXPECT_EQ(err(sig::verify_bandwidth(none, creds)), verify_errc::missing_signature);
  auto dup = with_auth(good);
  dup.headers.emplace_back("authorization", good);
  EXPECT_EQ(err(sig::verify_bandwidth(dup, creds)), verify_errc::bad_header_format);
}
