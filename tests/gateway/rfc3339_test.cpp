#include "gateway/rfc3339.hpp"

#include <gtest/gtest.h>

namespace stopgate::gateway {
namespace {

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  auto a = parse_rfc3339("2026-11-29T14:03:00Z");
  ASSERT_TRUE(a);
  EXPECT_EQ(format_rfc3339(*a), "2026-11-29T14:03:00Z");
  auto b = parse_rfc3339("2026-11-29T09:03:00-05:00");
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  auto c = parse_rfc3339("2026-11-29T15:33:00.250+01:30");
  ASSERT_TRUE(c);
  EXPECT_EQ(format_rfc3339(*c), "2026-11-29T14:03:00.250000Z");
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-29", "2026-11-29T14:03Z", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T14:03:00",
                          "2026-11-29T14:03:00+0100", "2026-11-29T14:03:00.Z", "2026-11-29T14:03:00Zx",
                          "2026-11-29T14:03:00.1234567890Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

}  // namespace
}  // namespace stopgate::gateway
