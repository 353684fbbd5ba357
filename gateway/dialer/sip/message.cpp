#include "gateway/dialer/sip/message.hpp"

#include <cstring>

namespace stopgate::gateway::dialer::sip {
namespace {

constexpr bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '!' || c == '%' || c == '*' || c == '_' || c == '+' || c == '`' ||
         c == '\'' || c == '~';
}

constexpr bool is_ws(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_ws(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (is_ws(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

std::optional<std::uint64_t> parse_digits(std::string_view s, std::size_t max_len) noexcept {
  if (s.empty() || s.size() > max_len) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + std::uint64_t(c - '0');
  }
  return v;
}

// Splits a header value at commas that are not inside quotes or <...>.
template <class F>
bool for_each_element(std::string_view v, F&& f) {
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (c == '"')
      quoted = true;
    else if (c == '<')
      ++angle;
    else if (c == '>')
      --angle;
    else if (c == ',' && angle == 0) {
      if (!f(trim(v.substr(start, i - start)))) return false;
      start = i + 1;
    }
  }
  if (quoted || angle != 0) return false;
  return f(trim(v.substr(start)));
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? char(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view reason_phrase(parse_error e) noexcept {
  switch (e) {
    case parse_error::none:
      return "OK";
    case parse_error::empty:
      return "Empty Message";
    case parse_error::bad_start_line:
      return "Malformed Request Line";
    case parse_error::bad_version:
      return "Unsupported SIP Version";
    case parse_error::bad_header:
      return "Malformed Header";
    case parse_error::too_many_headers:
      return "Too Many Headers";
    case parse_error::missing_via:
      return "Missing Via";
    case parse_error::bad_via:
      return "Malformed Via";
    case parse_error::missing_from:
      return "Missing From";
    case parse_error::bad_from:
      return "Malformed From";
    case parse_error::missing_to:
      return "Missing To";
    case parse_error::bad_to:
      return "Malformed To";
    case parse_error::missing_call_id:
      return "Missing Call-ID";
    case parse_error::duplicate_header:
      return "Duplicate Header";
    case parse_error::missing_cseq:
      return "Missing CSeq";
    case parse_error::bad_cseq:
      return "Malformed CSeq";
    case parse_error::cseq_method_mismatch:
      return "CSeq Method Mismatch";
    case parse_error::bad_max_forwards:
      return "Malformed Max-Forwards";
    case parse_error::bad_content_length:
      return "Bad Content-Length";
  }
  return "Bad Request";
}

header_id identify(std::string_view n) noexcept {
  if (n.size() == 1) {
    switch (n[0] | 0x20) {
      case 'v':
        return header_id::via;
      case 'f':
        return header_id::from;
      case 't':
        return header_id::to;
      case 'i':
        return header_id::call_id;
      case 'l':
        return header_id::content_length;
      case 'm':
        return header_id::contact;
      default:
        return header_id::other;
    }
  }
  if (iequals(n, "Via")) return header_id::via;
  if (iequals(n, "From")) return header_id::from;
  if (iequals(n, "To")) return header_id::to;
  if (iequals(n, "Call-ID")) return header_id::call_id;
  if (iequals(n, "CSeq")) return header_id::cseq;
  if (iequals(n, "Max-Forwards")) return header_id::max_forwards;
  if (iequals(n, "Content-Length")) return header_id::content_length;
  if (iequals(n, "Contact")) return header_id::contact;
  if (iequals(n, "Require")) return header_id::require;
  if (iequals(n, "Proxy-Require")) return header_id::proxy_require;
  return header_id::other;
}

std::optional<via_value> parse_via(std::string_view text) noexcept {
  via_value v;
  v.text = text;
  // sent-protocol: "SIP" "/" "2.0" "/" transport, with optional whitespace around the slashes.
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && is_ws(text[i])) ++i;
  };
  auto token = [&]() -> std::string_view {
    std::size_t s = i;
    while (i < text.size() && is_token_char(text[i])) ++i;
    return text.substr(s, i - s);
  };
  auto slash = [&] {
    skip_ws();
    if (i >= text.size() || text[i] != '/') return false;
    ++i;
    skip_ws();
    return true;
  };
  std::string_view name = token();
  if (!iequals(name, "SIP") || !slash()) return std::nullopt;
  if (token() != "2.0" || !slash()) return std::nullopt;
  v.transport = token();
  if (v.transport.empty()) return std::nullopt;
  if (i >= text.size() || !is_ws(text[i])) return std::nullopt;
  skip_ws();
  // sent-by: host [":" port]; an IPv6 reference in brackets.
  std::size_t by_start = i;
  if (i < text.size() && text[i] == '[') {
    std::size_t close = text.find(']', i);
    if (close == std::string_view::npos || close == i + 1) return std::nullopt;
    v.host = text.substr(i + 1, close - i - 1);
    i = close + 1;
  } else {
    std::size_t s = i;
    while (i < text.size() && (is_token_char(text[i]))) ++i;
    v.host = text.substr(s, i - s);
  }
  if (v.host.empty()) return std::nullopt;
  if (i < text.size() && text[i] == ':') {
    ++i;
    std::size_t s = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    auto port = parse_digits(text.substr(s, i - s), 5);
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    v.port = std::uint16_t(*port);
  }
  v.sent_by = text.substr(by_start, i - by_start);
  skip_ws();
  // Parameters: *( SEMI name [ EQUAL value ] ).
  while (i < text.size()) {
    if (text[i] != ';') return std::nullopt;
    ++i;
    skip_ws();
    std::string_view pname = token();
    if (pname.empty()) return std::nullopt;
    skip_ws();
    std::string_view pvalue;
    bool has_value = false;
    if (i < text.size() && text[i] == '=') {
      ++i;
      skip_ws();
      has_value = true;
      if (i < text.size() && text[i] == '"') {
        std::size_t close = text.find('"', i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        pvalue = text.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        std::size_t s = i;
        // Values may be IPv6 references ("received=[::1]") or tokens.
        while (i < text.size() &&
               (is_token_char(text[i]) || text[i] == ':' || text[i] == '[' || text[i] == ']'))
          ++i;
        pvalue = text.substr(s, i - s);
      }
    }
    skip_ws();
    if (iequals(pname, "branch")) {
      if (!has_value || pvalue.empty()) return std::nullopt;
      v.branch = pvalue;
    } else if (iequals(pname, "rport")) {
      v.rport = true;
    }
  }
  return v;
}

std::optional<std::string_view> header_param(std::string_view value,
                                             std::string_view name) noexcept {
  // Parameters of the header (not of the URI) start after the closing '>' of a name-addr, or
  // after the URI of an addr-spec (where they cannot contain ';' of the URI itself).
  std::size_t i = 0;
  bool quoted = false;
  std::size_t params = std::string_view::npos;
  for (; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      std::size_t close = value.find('>', i);
      if (close == std::string_view::npos) return std::nullopt;
      params = value.find(';', close);
      break;
    } else if (c == ';') {
      params = i;
      break;
    }
  }
  while (params != std::string_view::npos && params < value.size()) {
    std::size_t next = value.find(';', params + 1);
    std::string_view p = trim(value.substr(
        params + 1, next == std::string_view::npos ? std::string_view::npos : next - params - 1));
    std::size_t eq = p.find('=');
    std::string_view pname = trim(p.substr(0, eq));
    if (iequals(pname, name))
      return eq == std::string_view::npos ? std::string_view{} : trim(p.substr(eq + 1));
    params = next;
  }
  return std::nullopt;
}

std::string_view message::header_value(std::string_view name) const noexcept {
  const header_id want = identify(name);
  for (const auto& h : headers_) {
    if (want != header_id::other ? h.id == want : iequals(h.name, name)) return h.value;
  }
  return {};
}

parse_error message::take(const header& h) {
  switch (h.id) {
    case header_id::via: {
      bool ok = !via_broken_ && for_each_element(h.value, [&](std::string_view one) {
        if (vias_.size() >= max_vias) return false;
        auto v = parse_via(one);
        if (!v) return false;
        vias_.push_back(*v);
        return true;
      });
      // A response must carry every Via back: with one unreadable, none can be built.
      if (!ok) via_broken_ = true;
      return ok ? parse_error::none : parse_error::bad_via;
    }
    case header_id::from:
    case header_id::to: {
      std::string_view& field = h.id == header_id::from ? from_ : to_;
      std::string_view& tag = h.id == header_id::from ? from_tag_ : to_tag_;
      const parse_error bad = h.id == header_id::from ? parse_error::bad_from : parse_error::bad_to;
      if (!field.empty()) return parse_error::duplicate_header;
      if (h.value.empty()) return bad;
      // One value; quotes and brackets balanced.
      std::size_t count = 0;
      if (!for_each_element(h.value, [&](std::string_view) { return ++count == 1; })) return bad;
      field = h.value;
      if (auto t = header_param(h.value, "tag")) tag = *t;
      return parse_error::none;
    }
    case header_id::call_id:
      if (!call_id_.empty()) return parse_error::duplicate_header;
      if (h.value.empty() || h.value.find_first_of(" \t") != std::string_view::npos)
        return parse_error::missing_call_id;
      call_id_ = h.value;
      return parse_error::none;
    case header_id::cseq: {
      if (!cseq_.method.empty()) return parse_error::duplicate_header;
      std::size_t sp = h.value.find_first_of(" \t");
      if (sp == std::string_view::npos) return parse_error::bad_cseq;
      auto n = parse_digits(h.value.substr(0, sp), 10);
      std::string_view m = trim(h.value.substr(sp));
      if (!n || *n > 0x7fffffffu || !is_token(m)) return parse_error::bad_cseq;
      cseq_ = {std::uint32_t(*n), m};
      return parse_error::none;
    }
    case header_id::max_forwards: {
      if (max_forwards_) return parse_error::duplicate_header;
      auto n = parse_digits(h.value, 3);
      if (!n || *n > 255) return parse_error::bad_max_forwards;
      max_forwards_ = std::uint32_t(*n);
      return parse_error::none;
    }
    case header_id::content_length: {
      if (content_length_) return parse_error::duplicate_header;
      auto n = parse_digits(h.value, 9);
      if (!n) return parse_error::bad_content_length;
      content_length_ = std::size_t(*n);
      return parse_error::none;
    }
    default:
      return parse_error::none;
  }
}

parse_error message::parse_headers(char* p, char* end, char*& body, parse_error& field_error) {
  while (p < end) {
    // The blank line that ends the headers.
    if (*p == '\n') {
      body = p + 1;
      return parse_error::none;
    }
    if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      body = p + 2;
      return parse_error::none;
    }
    if (is_ws(*p)) return parse_error::bad_header;  // a continuation with nothing to continue
    char* line_end = static_cast<char*>(std::memchr(p, '\n', std::size_t(end - p)));
    if (!line_end) return parse_error::bad_header;  // headers must end with a blank line
    // Unfold: a following line that starts with whitespace continues this one.
    while (line_end + 1 < end && is_ws(line_end[1])) {
      *line_end = ' ';
      if (line_end > p && line_end[-1] == '\r') line_end[-1] = ' ';
      char* next =
          static_cast<char*>(std::memchr(line_end + 1, '\n', std::size_t(end - line_end - 1)));
      if (!next) return parse_error::bad_header;
      line_end = next;
    }
    std::string_view line(p, std::size_t(line_end - p));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return parse_error::bad_header;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && is_ws(name.back())) name.remove_suffix(1);
    if (!is_token(name)) return parse_error::bad_header;
    if (headers_.size() >= max_headers) return parse_error::too_many_headers;
    header h{name, trim(line.substr(colon + 1)), identify(name)};
    headers_.push_back(h);
    // A bad field does not stop the parse: the fields after it may still let a 400 be built.
    if (auto e = take(h); e != parse_error::none && field_error == parse_error::none)
      field_error = e;
    p = line_end + 1;
  }
  return parse_error::bad_header;
}

parse_error message::parse(char* data, std::size_t size) {
  char* p = data;
  char* end = data + size;
  // Leading CRLFs are keep-alives (RFC 5626) or stream padding.
  while (p < end && (*p == '\r' || *p == '\n')) ++p;
  if (p == end) return parse_error::empty;
  char* line_end = static_cast<char*>(std::memchr(p, '\n', std::size_t(end - p)));
  if (!line_end) return parse_error::bad_start_line;
  std::string_view line(p, std::size_t(line_end - p));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > 8 && iequals(line.substr(0, 8), "SIP/2.0 ")) {
    request_ = false;
    auto code = parse_digits(line.substr(8, 3), 3);
    if (!code || *code < 100 || *code > 699 || (line.size() > 11 && line[11] != ' '))
      return parse_error::bad_start_line;
    status_ = int(*code);
  } else {
    request_ = true;
    std::size_t sp1 = line.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
      return parse_error::bad_start_line;
    method_ = line.substr(0, sp1);
    uri_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method_) || uri_.empty() || uri_.find(':') == std::string_view::npos)
      return parse_error::bad_start_line;
    if (!iequals(version, "SIP/2.0")) return parse_error::bad_version;
  }
  char* body = nullptr;
  parse_error field_error = parse_error::none;
  if (auto e = parse_headers(line_end + 1, end, body, field_error); e != parse_error::none)
    return e;
  if (field_error != parse_error::none) return field_error;
  std::size_t available = std::size_t(end - body);
  if (content_length_) {
    // A datagram may carry padding after the body; a shorter one was cut (RFC 3261 18.3).
    if (*content_length_ > available) return parse_error::bad_content_length;
    body_ = std::string_view(body, *content_length_);
  } else {
    body_ = std::string_view(body, available);
  }
  if (vias_.empty()) return parse_error::missing_via;
  if (from_.empty()) return parse_error::missing_from;
  if (to_.empty()) return parse_error::missing_to;
  if (call_id_.empty()) return parse_error::missing_call_id;
  if (cseq_.method.empty()) return parse_error::missing_cseq;
  if (request_ && cseq_.method != method_) return parse_error::cseq_method_mismatch;
  return parse_error::none;
}

}  // namespace stopgate::gateway::dialer::sip
