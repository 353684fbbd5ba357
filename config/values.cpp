#include "config/values.hpp"

#include <fmt/format.h>

#include <charconv>

namespace stopgate::config {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::optional<unsigned> two_digits(std::string_view s) noexcept {
  if (s.size() != 2 || !is_digit(s[0]) || !is_digit(s[1])) return std::nullopt;
  return unsigned((s[0] - '0') * 10 + (s[1] - '0'));
}

}  // namespace

std::optional<minute_of_day> parse_hhmm(std::string_view text) noexcept {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto h = two_digits(text.substr(0, 2));
  auto m = two_digits(text.substr(3, 2));
  if (!h || !m || *m > 59 || *h > 24 || (*h == 24 && *m != 0)) return std::nullopt;
  return minute_of_day{std::uint16_t(*h * 60 + *m)};
}

std::optional<time_window> parse_window(std::string_view text) noexcept {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = parse_hhmm(text.substr(0, dash));
  auto b = parse_hhmm(text.substr(dash + 1));
  if (!a || !b || !(*a < *b)) return std::nullopt;
  return time_window{*a, *b};
}

std::string format_hhmm(minute_of_day m) {
  return fmt::format("{:02}:{:02}", m.minutes / 60, m.minutes % 60);
}

std::optional<date::year_month_day> parse_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  for (char c : text.substr(0, 4)) {
    if (!is_digit(c)) return std::nullopt;
    y = y * 10 + (c - '0');
  }
  auto m = two_digits(text.substr(5, 2));
  auto d = two_digits(text.substr(8, 2));
  if (!m || !d || y < 2000 || y > 2199) return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month{*m}, date::day{*d}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::string listen_address::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::optional<listen_address> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    for (char c : host)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'))
        return std::nullopt;
  } else {
    for (char c : host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
        return std::nullopt;
  }
  unsigned port = 0;
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  return listen_address{std::string(host), std::uint16_t(port)};
}

bool is_e164_shape(std::string_view text) noexcept {
  if (text.size() < 8 || text.size() > 16 || text[0] != '+' || text[1] == '0') return false;
  for (char c : text.substr(1))
    if (!is_digit(c)) return false;
  return true;
}

bool is_http_url(std::string_view text) noexcept {
  std::string_view rest;
  if (text.starts_with("https://"))
    rest = text.substr(8);
  else if (text.starts_with("http://"))
    rest = text.substr(7);
  else
    return false;
  auto host_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, host_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (text.find('#') != std::string_view::npos) return false;
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  // host[:port]; bracketed IPv6 allowed.
  if (authority.front() != '[') {
    auto colon = authority.find(':');
    if (colon == 0) return false;
    if (colon != std::string_view::npos) {
      auto port = authority.substr(colon + 1);
      if (port.empty() || port.size() > 5) return false;
      for (char c : port)
        if (!is_digit(c)) return false;
    }
  }
  return true;
}

std::optional<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (is_digit(c)) v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  // A single leftover sextet cannot come from whole bytes.
  if (bits >= 6) return std::nullopt;
  return out;
}

std::optional<std::string> decode_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

}  // namespace stopgate::config
