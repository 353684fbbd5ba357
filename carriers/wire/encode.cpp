#include "carriers/wire/encode.hpp"

#include "carriers/signature/crypto.hpp"

#include <boost/json/serialize.hpp>

namespace stopgate::carriers::wire {
namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

bool unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

void append_escaped(std::string& out, std::string_view text, bool space_as_plus) {
  for (unsigned char c : text) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex_digits[c >> 4]);
      out.push_back(hex_digits[c & 0xF]);
    }
  }
}

}  // namespace

void append_form_field(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out.push_back('&');
  append_escaped(out, name, true);
  out.push_back('=');
  append_escaped(out, value, true);
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  append_escaped(out, segment, false);
  return out;
}

std::string join_url(std::string_view base_url, std::string_view path) {
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  std::string out;
  out.reserve(base_url.size() + path.size());
  out.append(base_url).append(path);
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  std::string pair;
  pair.reserve(user.size() + 1 + password.size());
  pair.append(user).append(1, ':').append(password);
  return "Basic " + signature::base64_encode(pair);
}

std::string bearer_auth(std::string_view token) { return "Bearer " + std::string(token); }

std::string_view without_plus(std::string_view number) noexcept {
  if (number.starts_with('+')) number.remove_prefix(1);
  return number;
}

std::string json_text(const boost::json::object& obj) { return boost::json::serialize(obj); }

}  // namespace stopgate::carriers::wire
