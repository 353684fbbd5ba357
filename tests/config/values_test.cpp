// The small value parsers behind the settings: times, windows, dates, addresses, encodings.
#include "config/values.hpp"

#include <gtest/gtest.h>

namespace stopgate::config {
namespace {

TEST(ConfigValues, TimesOfDay) {
  EXPECT_EQ(parse_hhmm("00:00")->minutes, 0);
  EXPECT_EQ(parse_hhmm("21:30")->minutes, 21 * 60 + 30);
  EXPECT_EQ(parse_hhmm("24:00")->minutes, 1440);
  for (auto bad : {"", "8:00", "08:60", "24:01", "25:00", "08-00", "08:00 ", "ab:cd"})
    EXPECT_FALSE(parse_hhmm(bad)) << bad;
  EXPECT_EQ(format_hhmm(minute_of_day{570}), "09:30");
}

TEST(ConfigValues, WindowsAreHalfOpenAndOrdered) {
  auto w = parse_window("08:00-21:00");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->contains(minute_of_day{8 * 60}));
  EXPECT_TRUE(w->contains(minute_of_day{21 * 60 - 1}));
  EXPECT_FALSE(w->contains(minute_of_day{21 * 60}));
  EXPECT_FALSE(parse_window("21:00-08:00"));
  EXPECT_FALSE(parse_window("08:00-08:00"));
  EXPECT_FALSE(parse_window("08:00"));
}

TEST(ConfigValues, Dates) {
  auto d = parse_date("2027-07-05");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, date::year{2027} / date::July / date::day{5});
  EXPECT_TRUE(parse_date("2028-02-29"));
  for (auto bad : {"2027-02-29", "2027-13-01", "2027-7-05", "1999-01-01", "2027/07/05"})
    EXPECT_FALSE(parse_date(bad)) << bad;
}

TEST(ConfigValues, ListenAddresses) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:7600")->port, 7600);
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->to_string(), "[::1]:0");
  EXPECT_EQ(parse_listen_address("localhost:80")->host, "localhost");
  for (auto bad : {"127.0.0.1", ":7600", "127.0.0.1:", "127.0.0.1:65536", "a b:1", "[::1:80"})
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
}

TEST(ConfigValues, E164ShapeAndUrls) {
  EXPECT_TRUE(is_e164_shape("+14155552671"));
  EXPECT_TRUE(is_e164_shape("+4930123"));
  for (auto bad : {"14155552671", "+0415555267", "+141555", "+1234567890123456", "+1 415"})
    EXPECT_FALSE(is_e164_shape(bad)) << bad;
  EXPECT_TRUE(is_http_url("https://gw.example.com"));
  EXPECT_TRUE(is_http_url("http://127.0.0.1:9000/hooks"));
  for (auto bad : {"ftp://x", "https://", "https://u:p@host", "https://h/#f", "https://h:x",
                   "https://h/a b"})
    EXPECT_FALSE(is_http_url(bad)) << bad;
}

TEST(ConfigValues, Encodings) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_FALSE(decode_base64("a"));
  EXPECT_FALSE(decode_base64("aGV$bG8="));
  EXPECT_EQ(decode_hex("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(decode_hex("0g"));
  EXPECT_FALSE(decode_hex("abc"));
}

TEST(ConfigValues, SecretsDescribeTheirOriginOnly) {
  secret s = secret::from_env("TOKEN", "hunter2");
  EXPECT_EQ(s.describe(), "env:TOKEN");
  EXPECT_EQ(s.reveal(), "hunter2");
  EXPECT_EQ(secret::from_inline("x").describe(), "inline");
  EXPECT_EQ(s.with_value("k").describe(), "env:TOKEN");
}

}  // namespace
}  // namespace stopgate::config
