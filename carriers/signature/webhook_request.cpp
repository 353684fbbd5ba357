#include "carriers/signature/webhook_request.hpp"

namespace stopgate::carriers::signature {
namespace {

class verify_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.signature"; }
  std::string message(int ev) const override {
    switch (static_cast<verify_errc>(ev)) {
      case verify_errc::missing_signature: return "missing signature";
      case verify_errc::bad_signature: return "signature does not match";
      case verify_errc::stale_timestamp: return "timestamp outside the replay window";
      case verify_errc::replayed_nonce: return "nonce or message id already seen";
      case verify_errc::bad_header_format: return "malformed or duplicated signature header";
      case verify_errc::bad_key: return "no usable key configured";
      case verify_errc::body_hash_mismatch: return "body hash missing or different";
      case verify_errc::unsupported_algorithm: return "unsupported signature algorithm";
      case verify_errc::malformed_params: return "malformed urlencoded parameters";
    }
    return "unknown signature error";
  }
};

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one name or value of a form: '+' is a space, %XX must be two hex digits.
bool decode_component(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace

const boost::system::error_category& verify_category() noexcept {
  static const verify_category_impl cat;
  return cat;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

header_lookup find_header(const webhook_request& req, std::string_view name) noexcept {
  header_lookup r;
  for (const auto& [k, v] : req.headers) {
    if (!iequals(k, name)) continue;
    if (r.st != header_lookup::state::absent) {
      r.st = header_lookup::state::duplicate;
      r.value = {};
      return r;
    }
    r.st = header_lookup::state::one;
    r.value = v;
  }
  return r;
}

boost::system::result<param_list> parse_form(std::string_view text) {
  param_list out;
  std::string name, value;
  while (!text.empty()) {
    std::size_t amp = text.find('&');
    std::string_view seg = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (seg.empty()) continue;
    if (out.size() == max_params) return make_error_code(verify_errc::malformed_params);
    std::size_t eq = seg.find('=');
    std::string_view raw_name = seg.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : seg.substr(eq + 1);
    if (!decode_component(raw_name, name) || !decode_component(raw_value, value))
      return make_error_code(verify_errc::malformed_params);
    out.emplace_back(name, value);
  }
  return out;
}

bool is_form_content_type(std::string_view content_type) noexcept {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return iequals(media, "application/x-www-form-urlencoded");
}

std::optional<url_parts> split_url(std::string_view url) noexcept {
  url_parts p;
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  p.scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  std::size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    p.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  // An IPv6 literal keeps its colons inside brackets; the port follows "]:".
  std::size_t host_end = authority.size();
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host_end = close + 1;
    if (host_end < authority.size() && authority[host_end] != ':') return std::nullopt;
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) host_end = colon;
  }
  p.host = authority.substr(0, host_end);
  if (host_end < authority.size()) {
    p.port = authority.substr(host_end + 1);
    for (char c : p.port)
      if (c < '0' || c > '9') return std::nullopt;
  }
  if (p.host.empty()) return std::nullopt;
  std::size_t path_end = rest.find_first_of("?#");
  p.path = rest.substr(0, path_end);
  if (path_end != std::string_view::npos && rest[path_end] == '?') {
    std::string_view q = rest.substr(path_end + 1);
    p.query = q.substr(0, q.find('#'));
    p.has_query = true;
  }
  return p;
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool fresh(std::int64_t ts, std::chrono::system_clock::time_point now,
           std::chrono::seconds window) noexcept {
  std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // Out-of-range values are never fresh; in range, the difference cannot overflow.
  constexpr std::int64_t bound = 1'000'000'000'000'000;
  if (ts > bound || ts < -bound || now_s > bound || now_s < -bound) return false;
  std::int64_t diff = now_s > ts ? now_s - ts : ts - now_s;
  return diff <= window.count();
}

}  // namespace stopgate::carriers::signature
