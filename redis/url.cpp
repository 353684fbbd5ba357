#include "redis/url.hpp"

#include <charconv>

namespace stopgate::redis {
namespace {

class url_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.redis.url"; }
  std::string message(int ev) const override {
    switch (static_cast<url_errc>(ev)) {
      case url_errc::empty:
        return "redis.url is empty";
      case url_errc::bad_scheme:
        return "redis.url must be \"managed\", \"tcp://host:port\" or \"unix:///path\"";
      case url_errc::missing_host:
        return "redis.url has no host";
      case url_errc::bad_host:
        return "redis.url has an invalid host";
      case url_errc::bad_port:
        return "redis.url port must be an integer in 1..65535";
      case url_errc::missing_path:
        return "redis.url unix socket path is empty";
      case url_errc::bad_db:
        return "redis.url db must be an integer in 0..1000000";
      case url_errc::conflicting_db:
        return "redis.url gives two different db numbers";
      case url_errc::bad_percent:
        return "redis.url has a broken %XX escape";
      case url_errc::username:
        return "redis.url user names are not supported; write the password as \":secret@\"";
      case url_errc::unknown_parameter:
        return "redis.url query allows only \"db\" and \"password\"";
      case url_errc::bad_path:
        return "redis.url path must be empty or a db number";
    }
    return "invalid redis.url";
  }
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

boost::system::result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return make_error_code(url_errc::bad_percent);
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return make_error_code(url_errc::bad_percent);
    out.push_back(char(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Strict decimal integer in [lo, hi]: no sign, no spaces, no trailing characters.
bool parse_int(std::string_view s, int lo, int hi, int& out) noexcept {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

constexpr int max_db = 1'000'000;

bool host_char_ok(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// "db=2&password=x": fills ep; `db_seen` tells whether the path already gave a db.
boost::system::error_code apply_query(std::string_view q, endpoint& ep, bool db_seen) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    auto value = percent_decode(raw);
    if (!value) return value.error();
    if (key == "db") {
      int db = 0;
      if (!parse_int(*value, 0, max_db, db)) return url_errc::bad_db;
      if (db_seen && db != ep.db) return url_errc::conflicting_db;
      ep.db = db;
    } else if (key == "password") {
      ep.password = std::move(*value);
    } else {
      return url_errc::unknown_parameter;
    }
  }
  return {};
}

boost::system::result<endpoint> parse_tcp(std::string_view rest) {
  endpoint ep;
  ep.type = endpoint::kind::tcp;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos)
    return make_error_code(url_errc::bad_path);
  std::string_view query;
  if (const auto qm = rest.find('?'); qm != std::string_view::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  // The password may contain '@' only percent-encoded, so the last '@' ends the userinfo.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // "secret@host": the only sensible reading without a user name is a password.
      auto pw = percent_decode(userinfo);
      if (!pw) return pw.error();
      ep.password = std::move(*pw);
    } else {
      if (colon != 0) return make_error_code(url_errc::username);
      auto pw = percent_decode(userinfo.substr(1));
      if (!pw) return pw.error();
      ep.password = std::move(*pw);
    }
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return make_error_code(url_errc::bad_host);
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error_code(url_errc::bad_host);
      port = after.substr(1);
      if (port.empty()) return make_error_code(url_errc::bad_port);
    }
    for (char c : host)
      if (!(hex_value(c) >= 0 || c == ':' || c == '.')) return make_error_code(url_errc::bad_host);
  } else {
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return make_error_code(url_errc::bad_port);
    }
    for (char c : host)
      if (!host_char_ok(c)) return make_error_code(url_errc::bad_host);
  }
  if (host.empty()) return make_error_code(url_errc::missing_host);
  ep.host = std::string(host);
  if (!port.empty() && !parse_int(port, 1, 65535, ep.port))
    return make_error_code(url_errc::bad_port);
  bool db_seen = false;
  if (!path.empty()) {
    if (!parse_int(path, 0, max_db, ep.db)) {
      return make_error_code(path.find('/') != std::string_view::npos ? url_errc::bad_path
                                                                      : url_errc::bad_db);
    }
    db_seen = true;
  }
  if (auto ec = apply_query(query, ep, db_seen)) return ec;
  return ep;
}

boost::system::result<endpoint> parse_unix(std::string_view rest) {
  endpoint ep;
  ep.type = endpoint::kind::unix_socket;
  if (rest.find('#') != std::string_view::npos) return make_error_code(url_errc::bad_path);
  std::string_view query;
  if (const auto qm = rest.find('?'); qm != std::string_view::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  auto path = percent_decode(rest);
  if (!path) return path.error();
  if (path->empty()) return make_error_code(url_errc::missing_path);
  ep.path = std::move(*path);
  if (auto ec = apply_query(query, ep, false)) return ec;
  return ep;
}

}  // namespace

const boost::system::error_category& url_category() noexcept {
  static const url_category_impl cat;
  return cat;
}

boost::system::result<endpoint> parse_url(std::string_view url) {
  // Surrounding whitespace is a copy-and-paste accident, not meaning.
  while (!url.empty() && (url.front() == ' ' || url.front() == '\t')) url.remove_prefix(1);
  while (!url.empty() && (url.back() == ' ' || url.back() == '\t')) url.remove_suffix(1);
  if (url.empty()) return make_error_code(url_errc::empty);
  if (url == "managed") return endpoint{};
  if (url.starts_with("tcp://")) return parse_tcp(url.substr(6));
  if (url.starts_with("redis://")) return parse_tcp(url.substr(8));
  if (url.starts_with("unix://")) return parse_unix(url.substr(7));
  return make_error_code(url_errc::bad_scheme);
}

std::string endpoint::to_string() const {
  switch (type) {
    case kind::managed:
      return "managed";
    case kind::tcp: {
      const bool v6 = host.find(':') != std::string::npos;
      std::string s = "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
      if (db != 0) s += "/" + std::to_string(db);
      return s;
    }
    case kind::unix_socket: {
      std::string s = "unix://" + path;
      if (db != 0) s += "?db=" + std::to_string(db);
      return s;
    }
  }
  return "?";
}

}  // namespace stopgate::redis
