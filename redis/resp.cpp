#include "redis/resp.hpp"

#include <array>
#include <charconv>

namespace stopgate::redis {
namespace {

void append_header(std::string& out, char kind, std::size_t n) {
  std::array<char, 24> buf;
  buf[0] = kind;
  auto [p, ec] = std::to_chars(buf.data() + 1, buf.data() + buf.size() - 2, n);
  (void)ec;  // 20 digits always fit
  *p++ = '\r';
  *p++ = '\n';
  out.append(buf.data(), p);
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view upper) noexcept {
  if (a.size() != upper.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  std::size_t need = 16;
  for (auto a : args) need += a.size() + 16;
  out.reserve(out.size() + need);
  append_header(out, '*', args.size());
  for (auto a : args) {
    append_header(out, '$', a.size());
    out.append(a);
    out.append("\r\n", 2);
  }
}

bool is_mode_command(std::string_view name) noexcept {
  return ascii_iequals(name, "SUBSCRIBE") || ascii_iequals(name, "PSUBSCRIBE") ||
         ascii_iequals(name, "UNSUBSCRIBE") || ascii_iequals(name, "PUNSUBSCRIBE") ||
         ascii_iequals(name, "SSUBSCRIBE") || ascii_iequals(name, "SUNSUBSCRIBE") ||
         ascii_iequals(name, "MONITOR");
}

}  // namespace stopgate::redis
