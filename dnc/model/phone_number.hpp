// Phone numbers: strict E.164 parsing, NANP validity rules and lenient normalisation.
//
// A phone_number is the E.164 digits held as one integer (country codes never start with 0,
// so the integer is unambiguous). It is 8 bytes, trivially copyable, ordered and hashable:
// usable directly as a key. Only parse functions create one from text; inner code takes
// phone_number values, never strings.
#pragma once

#include <boost/system/result.hpp>

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace stopgate::dnc::model {

/// Why a string is not an acceptable number. Messages are meant for API clients.
enum class number_errc {
  empty = 1,         // nothing but whitespace
  bad_character,     // a character that is neither a digit nor allowed punctuation
  missing_plus,      // strict E.164 must start with '+'
  too_short,         // fewer than 7 digits (or not 10/11 digits for a bare national number)
  too_long,          // more than 15 digits
  bad_country_code,  // country code starts with 0
  nanp_length,       // +1 numbers have exactly 10 digits after the country code
  nanp_area_code,    // NANP area code starting with 0 or 1
  nanp_n11,          // N11 area codes (211, 311, ... 911) are service codes
  nanp_exchange,     // NANP exchange (central office code) starting with 0 or 1
  nanp_fictional,    // 555-0100 to 555-0199 are reserved for fiction
};

const boost::system::error_category& number_category() noexcept;
inline boost::system::error_code make_error_code(number_errc e) noexcept {
  return {static_cast<int>(e), number_category()};
}

/// An E.164 number. Thread-safe value type.
class phone_number {
 public:
  constexpr phone_number() noexcept = default;

  /// The E.164 digits as an integer, e.g. 14155550123 for +14155550123.
  constexpr std::uint64_t value() const noexcept { return digits_; }
  constexpr bool valid() const noexcept { return digits_ != 0; }

  /// True for +1 numbers (North American Numbering Plan: US, Canada, Caribbean).
  constexpr bool is_nanp() const noexcept {
    return digits_ >= 12'000'000'000ULL && digits_ <= 19'999'999'999ULL;
  }
  /// NANP parts; meaningful only when is_nanp().
  constexpr unsigned npa() const noexcept { return unsigned(digits_ / 10'000'000ULL % 1000); }
  constexpr unsigned nxx() const noexcept { return unsigned(digits_ / 10'000ULL % 1000); }
  constexpr unsigned line() const noexcept { return unsigned(digits_ % 10'000ULL); }
  /// NXX-XXXX as one number in [0, 10^7): the bit offset inside an area-code bitmap.
  constexpr std::uint32_t local7() const noexcept { return std::uint32_t(digits_ % 10'000'000ULL); }
  /// The 10-digit national number (NPA-NXX-XXXX) of a NANP number.
  constexpr std::uint64_t national10() const noexcept { return digits_ % 10'000'000'000ULL; }

  /// "+14155550123".
  std::string e164() const;
  /// For logs: "+1415***2671" (keeps country code + area code and the last four digits).
  std::string masked() const;

  /// Builds from already-validated digits (a key read back from storage). No checks.
  static constexpr phone_number from_value(std::uint64_t digits) noexcept {
    phone_number p;
    p.digits_ = digits;
    return p;
  }
  /// Builds a +1 number from NPA and the 7-digit local part. No checks.
  static constexpr phone_number nanp(unsigned npa, std::uint32_t local7) noexcept {
    return from_value(10'000'000'000ULL + std::uint64_t(npa) * 10'000'000ULL + local7);
  }

  friend constexpr auto operator<=>(phone_number, phone_number) noexcept = default;

 private:
  std::uint64_t digits_ = 0;
};

/// Strict E.164: '+', then 7 to 15 digits, first digit not 0, nothing else. +1 numbers must
/// also pass the NANP rules (check_nanp).
boost::system::result<phone_number> parse_e164(std::string_view text) noexcept;

/// Lenient input as people and CRMs write it: surrounding whitespace, spaces, dots, dashes
/// and parentheses are ignored; 10 digits are a NANP number; 11 digits starting with 1 are
/// too; anything starting with '+' (or "00") is E.164. The result is always validated as
/// parse_e164 would.
boost::system::result<phone_number> parse_phone(std::string_view text) noexcept;

/// The NANP rules of SPEC section 5 (`invalid_number`) for a 10-digit national number.
boost::system::error_code check_nanp(std::uint64_t national10) noexcept;

}  // namespace stopgate::dnc::model

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::model::number_errc> : std::true_type {};

template <>
struct std::hash<stopgate::dnc::model::phone_number> {
  std::size_t operator()(stopgate::dnc::model::phone_number p) const noexcept {
    // Fibonacci hashing spreads the dense integer keys over the table.
    return std::size_t(p.value() * 0x9E3779B97F4A7C15ULL);
  }
};
