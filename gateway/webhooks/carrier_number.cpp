#include "gateway/webhooks/carrier_number.hpp"

#include "gateway/webhooks/carrier_text.hpp"

#include <array>

namespace stopgate::gateway::webhooks {
namespace {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_letter(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
// The punctuation dnc::model::parse_phone skips.
constexpr bool is_punct(char c) noexcept {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

carrier_number kept(number_reading r, std::string_view text, std::string why) {
  return {r, {}, std::string(text), std::move(why)};
}

carrier_number parsed(boost::system::result<dnc::model::phone_number> n, std::string_view text) {
  if (!n) return kept(number_reading::invalid, text, n.error().message());
  return {number_reading::e164, *n, n->e164(), {}};
}

}  // namespace

std::string_view to_string(number_reading r) noexcept {
  switch (r) {
    case number_reading::e164:
      return "e164";
    case number_reading::short_code:
      return "short_code";
    case number_reading::alphanumeric:
      return "alphanumeric";
    case number_reading::ambiguous:
      return "ambiguous";
    case number_reading::invalid:
      return "invalid";
    case number_reading::missing:
      return "missing";
  }
  return "invalid";
}

carrier_number read_carrier_number(std::string_view raw, std::string_view default_country) {
  std::string_view t = raw;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  if (t.empty()) return kept(number_reading::missing, t, "no number");

  // The digits (at most 16 kept: one more than E.164 allows is enough to refuse).
  std::array<char, 17> digits{'+'};
  std::size_t n = 0;
  bool letters = false, other = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (is_digit(c)) {
      if (n < 16) digits[1 + n] = c;
      ++n;
    } else if (is_letter(c)) {
      letters = true;
    } else if (!is_punct(c) && !(c == '+' && i == 0)) {
      other = true;
    }
  }
  if (letters) return kept(number_reading::alphanumeric, t, "an alphanumeric sender id");
  if (other || n == 0) return kept(number_reading::invalid, t, "not a phone number");
  if (t.front() == '+' || (n > 2 && t.starts_with("00"))) return parsed(dnc::model::parse_phone(t), t);
  if (n <= 6) return kept(number_reading::short_code, t, "a short code");
  if (n > 15) return kept(number_reading::invalid, t, "number has more than 15 digits");
  if (digits[1] == '0')
    return kept(number_reading::ambiguous, t,
                "a national number (leading 0) of an unknown country");
  const std::string_view e164(digits.data(), n + 1);
  if (default_country.empty()) return parsed(dnc::model::parse_e164(e164), t);
  // default_country "1": the socket API's reading of bare NANP numbers.
  if (n == 10 || (n == 11 && digits[1] == '1')) return parsed(dnc::model::parse_phone(t), t);
  if (n < 10)
    return kept(number_reading::ambiguous, t,
                "7 to 9 digits without a country code: a local number, or an international "
                "one without its '+'");
  // 11 (not starting with 1) to 15 digits cannot be a NANP number: E.164 without the '+'.
  return parsed(dnc::model::parse_e164(e164), t);
}

void put_number(boost::json::object& rec, std::string_view key, std::string_view raw,
                const carrier_number& n) {
  put_text(rec, key, n.text);
  if (n.is_number()) {
    if (raw != n.text) put_text(rec, std::string(key) + "_as_sent", raw);
    return;
  }
  rec[std::string(key) + "_reading"] = to_string(n.reading);
  rec[std::string(key) + "_invalid"] = n.why;
}

}  // namespace stopgate::gateway::webhooks
