// Numbers and text as carriers write them in webhooks: read with the socket API's rules plus
// the carrier's default country, and recorded losslessly when they are not UTF-8.
#include "carriers/signature/crypto.hpp"
#include "gateway/webhooks/carrier_number.hpp"
#include "gateway/webhooks/carrier_text.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <ostream>

namespace stopgate::gateway::webhooks {
namespace {

struct row {
  std::string raw;
  std::string country;  // the carrier's default_country
  number_reading reading;
  std::string text;  // E.164 when read, else as sent (trimmed)
};

// Bytes outside printable ASCII as \xHH, so test names stay ASCII.
void PrintTo(const row& r, std::ostream* os) {
  static constexpr char hex[] = "0123456789ABCDEF";
  *os << "\"";
  for (unsigned char c : r.raw) {
    if (c >= 0x20 && c < 0x7F)
      *os << char(c);
    else
      *os << "\\x" << hex[c >> 4] << hex[c & 15];
  }
  *os << "\" with default_country \"" << r.country << "\"";
}

class CarrierNumber : public ::testing::TestWithParam<row> {};

TEST_P(CarrierNumber, ReadsAsTheSocketApiDoesAndNeverGuessesACountry) {
  const row& r = GetParam();
  const carrier_number n = read_carrier_number(r.raw, r.country);
  EXPECT_EQ(n.reading, r.reading) << to_string(n.reading) << ": " << n.why;
  EXPECT_EQ(n.text, r.text);
  EXPECT_EQ(n.is_number(), n.why.empty());
  if (n.is_number()) {
    EXPECT_EQ(n.number.e164(), r.text);
    // The socket API reads the E.164 form as the same number.
    EXPECT_EQ(dnc::model::parse_phone(r.text).value(), n.number);
  }
}

using R = number_reading;
INSTANTIATE_TEST_SUITE_P(
    Table, CarrierNumber,
    ::testing::Values(
        // '+' numbers are E.164 whatever the country setting.
        row{"+14155552671", "1", R::e164, "+14155552671"},
        row{"+447700900123", "", R::e164, "+447700900123"},
        row{" +1 (415) 555-2671 ", "1", R::e164, "+14155552671"},
        row{"0044 7700 900123", "1", R::e164, "+447700900123"},
        row{"+12125550123", "1", R::invalid, "+12125550123"},  // 555-01xx: fictional
        row{"+1415555267", "1", R::invalid, "+1415555267"},    // NANP needs 10 digits
        // A bare 10-digit number is NANP with "1", as the check op reads it (the bug: +20).
        row{"2027621422", "1", R::e164, "+12027621422"},
        row{"(202) 762-1422", "1", R::e164, "+12027621422"},
        row{"12027621422", "1", R::e164, "+12027621422"},
        row{"1027621422", "1", R::invalid, "1027621422"},  // area code 102: not re-read as +1 0..
        row{"9117621422", "1", R::invalid, "9117621422"},  // N11
        // Longer bare runs cannot be NANP: international without the '+' (Vonage, Plivo, Sinch).
        row{"447700900123", "1", R::e164, "+447700900123"},
        row{"46701234567", "1", R::e164, "+46701234567"},
        row{"120276214221", "1", R::invalid, "120276214221"},  // +1 with 11 digits
        // 7-9 bare digits: a local number or a short international one. Not guessed.
        row{"7621422", "1", R::ambiguous, "7621422"},
        row{"762142212", "1", R::ambiguous, "762142212"},
        // A trunk prefix: a national number of a country we do not know.
        row{"07700900123", "1", R::ambiguous, "07700900123"},
        row{"07700900123", "", R::ambiguous, "07700900123"},
        // default_country "": the carrier sends international numbers only.
        row{"2027621422", "", R::e164, "+2027621422"},
        row{"4681234567", "", R::e164, "+4681234567"},
        row{"2991234567", "", R::e164, "+2991234567"}, row{"6831234", "", R::e164, "+6831234"},
        row{"14155552671", "", R::e164, "+14155552671"},
        row{"1027621422", "", R::invalid, "1027621422"},  // +1 0..: not a NANP number either
        // Not phone numbers at all.
        row{"12345", "1", R::short_code, "12345"}, row{"ACME", "1", R::alphanumeric, "ACME"},
        row{"Acme 24", "", R::alphanumeric, "Acme 24"},
        row{"1234567890123456", "", R::invalid, "1234567890123456"},
        row{"+1415555267a", "1", R::alphanumeric, "+1415555267a"},
        row{"415#5552671", "1", R::invalid, "415#5552671"},
        row{"2027621422\xFF", "1", R::invalid, "2027621422\xFF"}, row{"  ", "1", R::missing, ""}));

TEST(CarrierNumberRecord, KeepsWhatWasSentBesideWhatWasRead) {
  boost::json::object rec;
  put_number(rec, "from", "2027621422", read_carrier_number("2027621422", "1"));
  EXPECT_EQ(rec.at("from"), "+12027621422");
  EXPECT_EQ(rec.at("from_as_sent"), "2027621422");
  EXPECT_FALSE(rec.contains("from_invalid"));

  boost::json::object same;
  put_number(same, "from", "+12027621422", read_carrier_number("+12027621422", "1"));
  EXPECT_EQ(same.size(), 1u);

  boost::json::object amb;
  put_number(amb, "from", "7621422", read_carrier_number("7621422", "1"));
  EXPECT_EQ(amb.at("from"), "7621422");
  EXPECT_EQ(amb.at("from_reading"), "ambiguous");
  EXPECT_FALSE(amb.at("from_invalid").as_string().empty());
}

TEST(CarrierText, Utf8Readings) {
  EXPECT_TRUE(is_utf8("Arr\xC3\xAAt \xF0\x9F\x9B\x91"));
  EXPECT_FALSE(is_utf8("STOP\xFF"));
  EXPECT_FALSE(is_utf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(is_utf8("\xC0\xAF"));      // overlong
  EXPECT_EQ(utf8_replacing("STOP\xFF"), "STOP\xEF\xBF\xBD");
  EXPECT_EQ(utf8_replacing("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_replacing("ok \xC3\xA9"), "ok \xC3\xA9");
  // Latin-1: each invalid byte is the code point of the same value; valid UTF-8 stays.
  EXPECT_EQ(utf8_from_latin1_bytes("Arr\xEAt"), "Arr\xC3\xAAt");
  EXPECT_EQ(utf8_from_latin1_bytes("\xC3\xA9\xFF"), "\xC3\xA9\xC3\xBF");
  EXPECT_TRUE(is_utf8(utf8_from_latin1_bytes("\x80\xBF\xC0\xFF\xED\xA0\x80")));
}

TEST(CarrierText, PutTextKeepsTheBytesRecoverable) {
  boost::json::object rec;
  put_text(rec, "body", "STOP");
  EXPECT_EQ(rec.at("body"), "STOP");
  EXPECT_FALSE(rec.contains("body_b64"));

  const std::string raw = "Stop\xE9";
  put_text(rec, "body", raw);
  EXPECT_EQ(rec.at("body"), "Stop\xEF\xBF\xBD");
  auto back = carriers::signature::base64_decode(rec.at("body_b64").as_string());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, raw);
}

}  // namespace
}  // namespace stopgate::gateway::webhooks
