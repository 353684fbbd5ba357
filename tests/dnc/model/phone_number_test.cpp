#include "dnc/model/phone_number.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace stopgate::dnc::model {
namespace {

boost::system::error_code err(std::string_view s) {
  return parse_e164(s).error();
}
boost::system::error_code lerr(std::string_view s) {
  return parse_phone(s).error();
}

TEST(PhoneNumber, StrictE164AcceptsValidNanp) {
  auto r = parse_e164("+14155552671");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value(), 14155552671ULL);
  EXPECT_TRUE(r->is_nanp());
  EXPECT_EQ(r->npa(), 415u);
  EXPECT_EQ(r->nxx(), 555u);
  EXPECT_EQ(r->line(), 2671u);
  EXPECT_EQ(r->local7(), 5552671u);
  EXPECT_EQ(r->e164(), "+14155552671");
  EXPECT_EQ(r->masked(), "+1415***2671");
}

TEST(PhoneNumber, StrictE164RejectsMalformed) {
  EXPECT_EQ(err(""), number_errc::empty);
  EXPECT_EQ(err("14155552671"), number_errc::missing_plus);
  EXPECT_EQ(err("+1 415 555 2671"), number_errc::bad_character);
  EXPECT_EQ(err("+1415555012a"), number_errc::bad_character);
  EXPECT_EQ(err("+"), number_errc::too_short);
  EXPECT_EQ(err("+123456"), number_errc::too_short);
  EXPECT_EQ(err("+1234567890123456"), number_errc::too_long);
  EXPECT_EQ(err("+04155552671"), number_errc::bad_country_code);
  EXPECT_EQ(err("+1415555012"), number_errc::nanp_length);
  EXPECT_EQ(err("+141555526714"), number_errc::nanp_length);
}

TEST(PhoneNumber, NanpRulesFromSpec) {
  EXPECT_EQ(err("+10155552671"), number_errc::nanp_area_code);
  EXPECT_EQ(err("+11155552671"), number_errc::nanp_area_code);
  for (const char* n11 : {"+12115552671", "+13115552671", "+14115552671", "+15115552671",
                          "+16115552671", "+17115552671", "+18115552671", "+19115552671"})
    EXPECT_EQ(err(n11), number_errc::nanp_n11) << n11;
  EXPECT_EQ(err("+14150550123"), number_errc::nanp_exchange);
  EXPECT_EQ(err("+14151550123"), number_errc::nanp_exchange);
  EXPECT_EQ(err("+14155550100"), number_errc::nanp_fictional);
  EXPECT_EQ(err("+14155550199"), number_errc::nanp_fictional);
  EXPECT_TRUE(parse_e164("+14155550099"));
  EXPECT_TRUE(parse_e164("+14155550200"));
  EXPECT_FALSE(parse_e164("+12125550150"));
  // N11 applies to area codes only; 411 as an exchange is not named by the spec.
  EXPECT_TRUE(parse_e164("+14154110123"));
  EXPECT_TRUE(parse_e164("+12105552671"));
}

TEST(PhoneNumber, NonNanpE164) {
  auto r = parse_e164("+442071838750");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->is_nanp());
  EXPECT_EQ(r->e164(), "+442071838750");
  EXPECT_EQ(r->masked(), "+442***8750");
  EXPECT_TRUE(parse_e164("+2901234"));  // 7 digits: the shortest E.164 numbers
  EXPECT_TRUE(parse_e164("+423456789012345"));
}

TEST(PhoneNumber, LenientNormalisation) {
  for (const char* s : {"(415) 555-2671", "415-555-2671", "415.555.2671", "4155552671",
                        "1 415 555 2671", "14155552671", "+1 (415) 555-2671", " +14155552671 ",
                        "\t4155552671\t", "001 415 555 2671"}) {
    auto r = parse_phone(s);
    ASSERT_TRUE(r) << s;
    EXPECT_EQ(r->e164(), "+14155552671") << s;
  }
  EXPECT_EQ(lerr("   "), number_errc::empty);
  EXPECT_EQ(lerr("()-"), number_errc::empty);
  EXPECT_EQ(lerr("415-555-012"), number_errc::too_short);
  EXPECT_EQ(lerr("0155552671"), number_errc::nanp_area_code);
  EXPECT_EQ(lerr("4150550123"), number_errc::nanp_exchange);
  EXPECT_EQ(lerr("415 555 2671 x12"), number_errc::bad_character);
  EXPECT_EQ(lerr("442071838750"), number_errc::missing_plus);
  EXPECT_EQ(lerr("24155552671"), number_errc::missing_plus);
  EXPECT_EQ(lerr("+1 415 555 2671 4567 8901"), number_errc::too_long);
  EXPECT_EQ(lerr("2125550150"), number_errc::nanp_fictional);
}

TEST(PhoneNumber, ValueTypeIsCompactOrderedAndHashable) {
  static_assert(sizeof(phone_number) == 8);
  static_assert(std::is_trivially_copyable_v<phone_number>);
  auto a = *parse_e164("+14155552671");
  auto b = *parse_e164("+14155552672");
  EXPECT_LT(a, b);
  EXPECT_EQ(phone_number::nanp(415, 5552671), a);
  EXPECT_EQ(phone_number::from_value(a.value()), a);
  std::unordered_set<phone_number> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_FALSE(phone_number{}.valid());
}

TEST(PhoneNumber, ErrorsHaveMessages) {
  EXPECT_EQ(make_error_code(number_errc::nanp_n11).message(), "N11 codes are not area codes");
  EXPECT_STREQ(number_category().name(), "stopgate.number");
}

}  // namespace
}  // namespace stopgate::dnc::model
