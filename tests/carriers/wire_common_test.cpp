// The helpers every adapter shares: urlencoding, Retry-After, bounded messages.
#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <gtest/gtest.h>

namespace w = stopgate::carriers::wire;
using namespace std::chrono;

TEST(WireCommon, FormEncoding) {
  std::string out;
  w::append_form_field(out, "a b", "x+y=z&~._-");
  w::append_form_field(out, "e", "");
  w::append_form_field(out, "u", "\xE2\x9C\x93\n");
  EXPECT_EQ(out, "a+b=x%2By%3Dz%26~._-&e=&u=%E2%9C%93%0A");
  EXPECT_EQ(w::encode_path_segment("AC 1/2"), "AC%201%2F2");
}

TEST(WireCommon, RetryAfter) {
  const auto now = sys_days{2026y / 5 / 1} + 12h;
  EXPECT_EQ(w::parse_retry_after("0", now), milliseconds(0));
  EXPECT_EQ(w::parse_retry_after(" 120 ", now), seconds(120));
  EXPECT_EQ(w::parse_retry_after("999999999", now), w::max_retry_after);
  EXPECT_EQ(w::parse_retry_after("Fri, 01 May 2026 12:01:00 GMT", now), seconds(60));
  EXPECT_EQ(w::parse_retry_after("Fri, 01 May 2026 11:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(w::parse_retry_after("Fri, 01 May 2027 12:00:00 GMT", now), w::max_retry_after);
  EXPECT_EQ(w::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), w::max_retry_after);
  EXPECT_EQ(w::parse_retry_after("Fri, 01 May 2026 12:00:02 GMT", now + 500ms), milliseconds(1500));
  for (const char* bad : {"", "-1", "1.5", "soon", "Fri, 31 Feb 2026 12:00:00 GMT",
                          "Fri, 01 Foo 2026 12:00:00 GMT", "Fri, 01 May 2026 25:00:00 GMT",
                          "Friday, 01-May-26 12:00:00 GMT"})
    EXPECT_FALSE(w::parse_retry_after(bad, now)) << bad;
}

TEST(WireCommon, ClassByStatus) {
  using stopgate::carriers::failure_class;
  EXPECT_EQ(w::class_for_status(429), failure_class::retryable);
  EXPECT_EQ(w::class_for_status(408), failure_class::retryable);
  EXPECT_EQ(w::class_for_status(500), failure_class::retryable);
  EXPECT_EQ(w::class_for_status(599), failure_class::retryable);
  EXPECT_EQ(w::class_for_status(400), failure_class::permanent);
  EXPECT_EQ(w::class_for_status(404), failure_class::permanent);
  EXPECT_EQ(w::class_for_status(0), failure_class::permanent);
}

TEST(WireCommon, BoundedMessages) {
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xC3\xA9";  // 300 bytes of 'é'
  std::string cut = w::bounded_message(accents);
  EXPECT_EQ(cut.size(), 200u);  // 100 whole characters
  std::string odd = "x" + accents;
  EXPECT_EQ(w::bounded_message(odd).size(), 199u);  // never half a character
  EXPECT_EQ(w::raw_snippet("ok\r\n\xFF"), "ok???");
}
