#include "gateway/dialer/sip/uri.hpp"

#include "gateway/dialer/sip/message.hpp"

namespace stopgate::gateway::dialer::sip {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uri_scheme scheme_of(std::string_view uri) noexcept {
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return uri_scheme::other;
  std::string_view s = uri.substr(0, colon);
  if (iequals(s, "sip")) return uri_scheme::sip;
  if (iequals(s, "sips")) return uri_scheme::sips;
  if (iequals(s, "tel")) return uri_scheme::tel;
  return uri_scheme::other;
}

dialed dialed_number(std::string_view uri, std::span<const std::string> strip_prefixes) {
  dialed out;
  const uri_scheme sch = scheme_of(uri);
  if (sch == uri_scheme::other) return out;
  std::string_view rest = uri.substr(uri.find(':') + 1);
  if (sch == uri_scheme::tel) {
    out.user = rest;
  } else {
    // sip:user[:password]@host...; no '@' means no user part.
    std::size_t at = rest.find('@');
    if (at == std::string_view::npos) return out;
    out.user = rest.substr(0, at);
    if (std::size_t colon = out.user.find(':'); colon != std::string_view::npos)
      out.user = out.user.substr(0, colon);
  }
  // User parameters (";npdi", ";phone-context=...") are not part of the number.
  std::string_view subscriber = out.user.substr(0, out.user.find(';'));
  std::string number;
  number.reserve(subscriber.size());
  for (std::size_t i = 0; i < subscriber.size(); ++i) {
    char c = subscriber[i];
    if (c == '%') {
      if (i + 2 >= subscriber.size()) return {out.user, {}};
      int hi = hex_value(subscriber[i + 1]), lo = hex_value(subscriber[i + 2]);
      if (hi < 0 || lo < 0) return {out.user, {}};
      c = char(hi * 16 + lo);
      i += 2;
    }
    // RFC 3966 visual separators.
    if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ') continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#') {
      number.push_back(c);
      continue;
    }
    return {out.user, {}};
  }
  // The longest configured prefix that leaves something to dial.
  std::size_t best = 0;
  for (const auto& p : strip_prefixes)
    if (p.size() > best && p.size() < number.size() && number.starts_with(p)) best = p.size();
  number.erase(0, best);
  out.number = std::move(number);
  return out;
}

}  // namespace stopgate::gateway::dialer::sip
