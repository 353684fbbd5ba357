// Numbers as carriers write them in webhooks (inbound `from`/`to`, status `to`/`from`), read
// with the socket API's rules (dnc::model::parse_phone: E.164, and NANP for bare 10 and 11 digits)
// plus the carrier's `default_country` for bare digits. A number that cannot be read without
// guessing its country is kept as sent and says why; it is never read into another country.
// docs/WEBHOOKS.md, "Numbers". Pure; thread-safe.
#pragma once

#include "dnc/model/phone_number.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::gateway::webhooks {

/// What a carrier's number turned out to be.
enum class number_reading : std::uint8_t {
  e164,          // a phone number
  short_code,    // 1 to 6 digits: an SMS short code
  alphanumeric,  // holds letters: an alphanumeric sender id
  ambiguous,     // digits whose country cannot be known (7-9 digits, or a leading 0)
  invalid,       // not a valid number (E.164 or NANP rules), or characters no number has
  missing,       // empty
};

/// "e164", "short_code", "alphanumeric", "ambiguous", "invalid", "missing".
std::string_view to_string(number_reading r) noexcept;

struct carrier_number {
  number_reading reading = number_reading::missing;
  dnc::model::phone_number number;  // set when reading == e164
  std::string text;          // the E.164 form when e164; otherwise the text as sent (trimmed)
  std::string why;           // when not e164: why it is not read as a phone number

  bool is_number() const noexcept { return reading == number_reading::e164; }
};

/// Reads `raw` as carrier `default_country` ("1" or "", config::carrier_settings) defines:
/// - `+` or `00` first: E.164 (spaces, dots, dashes and parentheses ignored; +1 numbers must
///   pass the NANP rules);
/// - letters: an alphanumeric sender id; 1-6 bare digits: a short code;
/// - bare digits with "1": 10 digits are a NANP national number, 11 starting with 1 a NANP
///   number, 11 others and 12-15 digits E.164 without the '+', 7-9 digits ambiguous;
/// - bare digits with "": 7-15 digits are E.164 without the '+';
/// - a bare number starting with 0 is national with a trunk prefix: ambiguous.
carrier_number read_carrier_number(std::string_view raw, std::string_view default_country);

/// Records number `n` (read from `raw`) in an evidence record: `rec[key]` is the E.164 form or
/// the text as sent; beside it `<key>_as_sent` when reading rewrote it ("2027621422"), or
/// `<key>_reading` and `<key>_invalid` (why it is not a phone number) when it is none. Text
/// that is not UTF-8 is put as carrier_text.hpp's put_text() does.
void put_number(boost::json::object& rec, std::string_view key, std::string_view raw,
                const carrier_number& n);

}  // namespace stopgate::gateway::webhooks
