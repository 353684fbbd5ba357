#include "gateway/api/request_decoder.hpp"

#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace stopgate::gateway::api {

void throw_exception_from_error(const request_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(make_error_code(e.code), e.message), loc);
}

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

/// Index one past the closing quote of the string starting at s[i] == '"'.
std::size_t skip_string(std::string_view s, std::size_t i) noexcept {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

/// Index one past a scalar (number or literal) starting at s[i].
std::size_t skip_scalar(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

bool key_equals(std::string_view raw_key, std::string_view key) {
  std::string_view inner = raw_key.substr(1, raw_key.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner == key;
  // A key written with escapes ("\u0069d"): decode it (rare, so a temporary is fine).
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(raw_key, ec);
  return !ec && v.is_string() && v.get_string() == key;
}

}  // namespace

std::optional<std::string_view> find_raw_member(std::string_view s, std::string_view key,
                                                bool& duplicate) {
  duplicate = false;
  std::optional<std::string_view> found;
  std::size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return found;
  ++i;
  int depth = 1;
  bool expect_key = true;
  while (i < s.size() && depth > 0) {
    char c = s[i];
    if (c == '"') {
      std::size_t end = skip_string(s, i);
      if (depth == 1 && expect_key) {
        bool match = key_equals(s.substr(i, end - i), key);
        i = skip_ws(s, end);
        if (i < s.size() && s[i] == ':') i = skip_ws(s, i + 1);
        expect_key = false;
        if (match) {
          std::size_t vend = i;
          if (i < s.size() && s[i] == '"') {
            vend = skip_string(s, i);
          } else if (i < s.size() && s[i] != '{' && s[i] != '[') {
            vend = skip_scalar(s, i);
          } else {
            // Objects and arrays are reported by their first character only: callers reject them.
            vend = i + 1;
          }
          if (found) duplicate = true;
          found = s.substr(i, vend - i);
        }
        continue;
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
    ++i;
  }
  return found;
}

namespace {
boost::json::parse_options decoder_options() {
  // Depth 32 bounds the parser's stack; requests are shallow.
  boost::json::parse_options opt;
  opt.max_depth = 32;
  return opt;
}
}  // namespace

request_decoder::request_decoder() : parser_({}, decoder_options()) {}

decode_result request_decoder::decode(std::string_view line,
                                      std::optional<boost::json::value>& out,
                                      boost::json::storage_ptr sp) {
  parser_.reset(std::move(sp));
  boost::system::error_code ec;
  parser_.write(line.data(), line.size(), ec);
  if (ec) return request_error{api_errc::bad_json, "bad JSON: " + ec.message()};
  // emplace, not assign: assignment would copy the value into out's old storage.
  out.emplace(parser_.release());
  if (!out->is_object()) return request_error{api_errc::bad_json, "the request must be a JSON object"};
  const boost::json::object& obj = out->get_object();

  request_line req;
  req.object = &obj;
  if (obj.contains("id")) {
    bool duplicate = false;
    auto raw = find_raw_member(line, "id", duplicate);
    if (!raw || raw->empty()) return request_error{api_errc::bad_request, "id: could not be read"};
    if (duplicate) return request_error{api_errc::bad_request, "id: given more than once"};
    char first = raw->front();
    bool is_string = first == '"';
    bool is_number = first == '-' || (first >= '0' && first <= '9');
    if (!is_string && !is_number) {
      return request_error{api_errc::bad_request, "id: must be a string or a number"};
    }
    req.id = *raw;
  } else {
    req.id = "null";
  }

  const boost::json::value* op = obj.if_contains("op");
  if (!op) return request_error{api_errc::bad_request, "op: missing", req.id};
  if (!op->is_string()) return request_error{api_errc::bad_request, "op: must be a string", req.id};
  req.op = op->get_string();
  return req;
}

}  // namespace stopgate::gateway::api
