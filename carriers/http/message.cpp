#include "carriers/http/message.hpp"

#include "carriers/http/error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>

namespace stopgate::carriers::http {
namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 9110 tchar.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= '0' && u <= '9') return true;
    if ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool has_ctl(std::string_view s, bool allow_tab) noexcept {
  return std::any_of(s.begin(), s.end(), [allow_tab](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && !(allow_tab && u == '\t')) || u == 0x7f;
  });
}

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::optional<std::string_view> response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void throw_exception_from_error(const failure& f, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(f.code), loc);
}

boost::system::error_code check_request(const request& r) noexcept {
  const auto bad = make_error_code(client_errc::invalid_request);
  if (!is_token(r.method)) return bad;
  if (!starts_with_icase(r.url, "http://") && !starts_with_icase(r.url, "https://")) return bad;
  if (has_ctl(r.url, false) || r.url.find(' ') != std::string::npos) return bad;
  for (const auto& [name, value] : r.headers)
    if (!is_token(name) || has_ctl(value, true)) return bad;
  if (r.auth && (has_ctl(r.auth->user, false) || has_ctl(r.auth->password, false))) return bad;
  if (r.timeout.count() <= 0) return bad;
  return {};
}

std::string_view url_origin(std::string_view url) noexcept {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto host_begin = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_begin);
  if (host_end == std::string_view::npos) host_end = url.size();
  std::string_view authority = url.substr(host_begin, host_end - host_begin);
  // Credentials in the URL never reach the log.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  return authority;
}

}  // namespace stopgate::carriers::http
