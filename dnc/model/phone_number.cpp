#include "dnc/model/phone_number.hpp"

#include <array>

namespace stopgate::dnc::model {
namespace {

class number_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.number"; }
  std::string message(int ev) const override {
    switch (static_cast<number_errc>(ev)) {
      case number_errc::empty:
        return "empty number";
      case number_errc::bad_character:
        return "number contains a character that is not a digit";
      case number_errc::missing_plus:
        return "E.164 number must start with '+'";
      case number_errc::too_short:
        return "number has too few digits";
      case number_errc::too_long:
        return "number has more than 15 digits";
      case number_errc::bad_country_code:
        return "country code must not start with 0";
      case number_errc::nanp_length:
        return "+1 numbers need exactly 10 digits after +1";
      case number_errc::nanp_area_code:
        return "area code must not start with 0 or 1";
      case number_errc::nanp_n11:
        return "N11 codes are not area codes";
      case number_errc::nanp_exchange:
        return "exchange must not start with 0 or 1";
      case number_errc::nanp_fictional:
        return "555-0100 to 555-0199 are fictional numbers";
    }
    return "unknown number error";
  }
};

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Validates a run of E.164 digits (no '+') and builds the value.
boost::system::result<phone_number> from_e164_digits(std::string_view d) noexcept {
  if (d.size() < 7) return make_error_code(number_errc::too_short);
  if (d.size() > 15) return make_error_code(number_errc::too_long);
  if (d[0] == '0') return make_error_code(number_errc::bad_country_code);
  std::uint64_t v = 0;
  for (char c : d) v = v * 10 + std::uint64_t(c - '0');
  if (d[0] == '1') {
    if (d.size() != 11) return make_error_code(number_errc::nanp_length);
    if (auto ec = check_nanp(v % 10'000'000'000ULL)) return ec;
  }
  return phone_number::from_value(v);
}

}  // namespace

const boost::system::error_category& number_category() noexcept {
  static const number_category_impl cat;
  return cat;
}

boost::system::error_code check_nanp(std::uint64_t n) noexcept {
  const unsigned npa = unsigned(n / 10'000'000ULL);
  const unsigned nxx = unsigned(n / 10'000ULL % 1000);
  const unsigned line = unsigned(n % 10'000ULL);
  if (npa < 200 || npa > 999) return number_errc::nanp_area_code;
  if (npa % 100 == 11) return number_errc::nanp_n11;
  if (nxx < 200) return number_errc::nanp_exchange;
  if (nxx == 555 && line >= 100 && line <= 199) return number_errc::nanp_fictional;
  return {};
}

boost::system::result<phone_number> parse_e164(std::string_view text) noexcept {
  if (text.empty()) return make_error_code(number_errc::empty);
  if (text[0] != '+') return make_error_code(number_errc::missing_plus);
  text.remove_prefix(1);
  for (char c : text)
    if (!is_digit(c)) return make_error_code(number_errc::bad_character);
  if (text.empty()) return make_error_code(number_errc::too_short);
  return from_e164_digits(text);
}

boost::system::result<phone_number> parse_phone(std::string_view text) noexcept {
  // Collect digits, skipping the punctuation people write; at most 15 are kept so the
  // buffer is fixed-size, and one more is enough to report "too long".
  std::array<char, 16> buf;
  std::size_t n = 0;
  bool plus = false, any = false;
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  std::size_t end = text.size();
  while (end > i && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  if (i == end) return make_error_code(number_errc::empty);
  if (text[i] == '+') {
    plus = true;
    ++i;
  } else if (end - i > 2 && text[i] == '0' && text[i + 1] == '0') {
    plus = true;  // international "00" prefix
    i += 2;
  }
  for (; i < end; ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      if (n == buf.size()) return make_error_code(number_errc::too_long);
      buf[n++] = c;
      any = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      continue;
    } else {
      return make_error_code(number_errc::bad_character);
    }
  }
  if (!any) return make_error_code(number_errc::empty);
  std::string_view d(buf.data(), n);
  if (plus) return from_e164_digits(d);
  if (n == 10) {
    if (d[0] == '0' || d[0] == '1') return make_error_code(number_errc::nanp_area_code);
    std::array<char, 11> with_cc{'1'};
    for (std::size_t k = 0; k < 10; ++k) with_cc[k + 1] = d[k];
    return from_e164_digits({with_cc.data(), 11});
  }
  if (n == 11 && d[0] == '1') return from_e164_digits(d);
  // Longer digit runs without '+' could be any country: we do not guess.
  if (n > 10) return make_error_code(number_errc::missing_plus);
  return make_error_code(number_errc::too_short);
}

std::string phone_number::e164() const {
  std::array<char, 21> tmp;
  std::size_t n = 0;
  std::uint64_t v = digits_;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  std::string out;
  out.reserve(n + 1);
  out.push_back('+');
  while (n > 0) out.push_back(tmp[--n]);
  return out;
}

std::string phone_number::masked() const {
  std::string s = e164();
  // +CC NPA kept for NANP ("+1415"), otherwise the first 4 characters; last 4 digits kept.
  const std::size_t keep_head = is_nanp() ? 5 : 4;
  if (s.size() <= keep_head + 4) return s;
  return s.substr(0, keep_head) + "***" + s.substr(s.size() - 4);
}

}  // namespace stopgate::dnc::model
