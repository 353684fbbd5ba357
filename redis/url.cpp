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
        return "redis.url must be \"managed\", \"tcp://host:port\", \"unix:///path\", "
               "\"cluster://host:port,host:port\" or \"sentinel://host:port,host:port/master\"";
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
      case url_errc::unknown_parameter:
        return "redis.url query allows only \"db\", \"username\" and \"password\" (and, for "
               "sentinel://, \"sentinel_username\" and \"sentinel_password\")";
      case url_errc::bad_path:
        return "redis.url path must be empty or a db number (for sentinel://, the master name)";
      case url_errc::missing_master:
        return "redis.url sentinel:// needs the master name: \"sentinel://host:port,host:port/"
               "mymaster\"";
      case url_errc::cluster_db:
        return "redis.url cluster:// has only db 0";
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

// Which query parameters a scheme takes.
enum query_keys : unsigned {
  q_db = 1,
  q_credentials = 2,  // username, password
  q_sentinel = 4,     // sentinel_username, sentinel_password
};

// "db=2&password=x": fills ep; `db_seen` tells whether the path already gave a db.
boost::system::error_code apply_query(std::string_view q, endpoint& ep, bool db_seen,
                                      unsigned allowed) {
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
    if (key == "db" && (allowed & q_db)) {
      int db = 0;
      if (!parse_int(*value, 0, max_db, db)) return url_errc::bad_db;
      if (db_seen && db != ep.db) return url_errc::conflicting_db;
      ep.db = db;
    } else if (key == "password" && (allowed & q_credentials)) {
      ep.password = std::move(*value);
    } else if (key == "username" && (allowed & q_credentials)) {
      ep.username = std::move(*value);
    } else if (key == "sentinel_password" && (allowed & q_sentinel)) {
      ep.sentinel_password = std::move(*value);
    } else if (key == "sentinel_username" && (allowed & q_sentinel)) {
      ep.sentinel_username = std::move(*value);
    } else if (key == "db") {
      // The only scheme without db is cluster://, which has db 0 alone.
      int db = 0;
      if (!parse_int(*value, 0, max_db, db)) return url_errc::bad_db;
      if (db != 0) return url_errc::cluster_db;
    } else {
      return url_errc::unknown_parameter;
    }
  }
  return {};
}

// The pieces of "[userinfo@]hosts[/path][?query]".
struct url_parts {
  std::string_view userinfo, hosts, path, query;
  bool has_userinfo = false, has_path = false;
};

boost::system::result<url_parts> split_parts(std::string_view rest) {
  url_parts out;
  if (rest.find('#') != std::string_view::npos) return make_error_code(url_errc::bad_path);
  if (const auto qm = rest.find('?'); qm != std::string_view::npos) {
    out.query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    out.path = rest.substr(slash + 1);
    out.has_path = true;
    rest = rest.substr(0, slash);
  }
  // The password may contain '@' only percent-encoded, so the last '@' ends the userinfo.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    out.userinfo = rest.substr(0, at);
    out.has_userinfo = true;
    rest = rest.substr(at + 1);
  }
  out.hosts = rest;
  return out;
}

// "user:secret", ":secret" or "secret" (the only sensible reading without a colon).
boost::system::error_code apply_userinfo(std::string_view userinfo, endpoint& ep) {
  const auto colon = userinfo.find(':');
  std::string_view pw = userinfo;
  if (colon != std::string_view::npos) {
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return user.error();
    ep.username = std::move(*user);
    pw = userinfo.substr(colon + 1);
  }
  auto decoded = percent_decode(pw);
  if (!decoded) return decoded.error();
  ep.password = std::move(*decoded);
  return {};
}

// "host", "host:port", "[v6]" or "[v6]:port".
boost::system::error_code parse_host_port(std::string_view rest, int default_port, host_port& out) {
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return url_errc::bad_host;
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_errc::bad_host;
      port = after.substr(1);
      if (port.empty()) return url_errc::bad_port;
    }
    for (char c : host)
      if (!(hex_value(c) >= 0 || c == ':' || c == '.')) return url_errc::bad_host;
  } else {
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return url_errc::bad_port;
    }
    for (char c : host)
      if (!host_char_ok(c)) return url_errc::bad_host;
  }
  if (host.empty()) return url_errc::missing_host;
  out.host = std::string(host);
  out.port = default_port;
  if (!port.empty() && !parse_int(port, 1, 65535, out.port)) return url_errc::bad_port;
  return {};
}

// "h1:p1,h2:p2" into ep.nodes (and ep.host/port: the first).
boost::system::error_code parse_node_list(std::string_view hosts, int default_port, endpoint& ep) {
  while (true) {
    const auto comma = hosts.find(',');
    host_port hp;
    if (auto ec = parse_host_port(hosts.substr(0, comma), default_port, hp)) return ec;
    ep.nodes.push_back(std::move(hp));
    if (comma == std::string_view::npos) break;
    hosts = hosts.substr(comma + 1);
  }
  ep.host = ep.nodes.front().host;
  ep.port = ep.nodes.front().port;
  return {};
}

boost::system::result<endpoint> parse_tcp(std::string_view rest) {
  endpoint ep;
  ep.type = endpoint::kind::tcp;
  auto parts = split_parts(rest);
  if (!parts) return parts.error();
  if (parts->has_userinfo)
    if (auto ec = apply_userinfo(parts->userinfo, ep)) return ec;
  host_port hp;
  if (auto ec = parse_host_port(parts->hosts, 6379, hp)) return ec;
  ep.host = std::move(hp.host);
  ep.port = hp.port;
  bool db_seen = false;
  if (!parts->path.empty()) {
    if (!parse_int(parts->path, 0, max_db, ep.db)) {
      return make_error_code(parts->path.find('/') != std::string_view::npos ? url_errc::bad_path
                                                                             : url_errc::bad_db);
    }
    db_seen = true;
  }
  if (auto ec = apply_query(parts->query, ep, db_seen, q_db | q_credentials)) return ec;
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
  if (auto ec = apply_query(query, ep, false, q_db | q_credentials)) return ec;
  return ep;
}

boost::system::result<endpoint> parse_cluster(std::string_view rest) {
  endpoint ep;
  ep.type = endpoint::kind::cluster;
  auto parts = split_parts(rest);
  if (!parts) return parts.error();
  if (parts->has_userinfo)
    if (auto ec = apply_userinfo(parts->userinfo, ep)) return ec;
  if (auto ec = parse_node_list(parts->hosts, 6379, ep)) return ec;
  if (!parts->path.empty()) {
    int db = 0;
    if (!parse_int(parts->path, 0, max_db, db)) return make_error_code(url_errc::bad_path);
    if (db != 0) return make_error_code(url_errc::cluster_db);
  }
  if (auto ec = apply_query(parts->query, ep, false, q_credentials)) return ec;
  return ep;
}

boost::system::result<endpoint> parse_sentinel(std::string_view rest) {
  endpoint ep;
  ep.type = endpoint::kind::sentinel;
  auto parts = split_parts(rest);
  if (!parts) return parts.error();
  if (parts->has_userinfo)
    if (auto ec = apply_userinfo(parts->userinfo, ep)) return ec;
  if (auto ec = parse_node_list(parts->hosts, 26379, ep)) return ec;
  if (parts->path.find('/') != std::string_view::npos) return make_error_code(url_errc::bad_path);
  auto name = percent_decode(parts->path);
  if (!name) return name.error();
  if (name->empty()) return make_error_code(url_errc::missing_master);
  for (char c : *name)
    if (static_cast<unsigned char>(c) <= ' ') return make_error_code(url_errc::bad_path);
  ep.master_name = std::move(*name);
  if (auto ec = apply_query(parts->query, ep, false, q_db | q_credentials | q_sentinel)) return ec;
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
  if (url.starts_with("cluster://")) return parse_cluster(url.substr(10));
  if (url.starts_with("sentinel://")) return parse_sentinel(url.substr(11));
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
    case kind::cluster:
    case kind::sentinel: {
      std::string s = type == kind::cluster ? "cluster://" : "sentinel://";
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i > 0) s += ',';
        const bool v6 = nodes[i].host.find(':') != std::string::npos;
        s += (v6 ? "[" + nodes[i].host + "]" : nodes[i].host) + ":" + std::to_string(nodes[i].port);
      }
      if (type == kind::sentinel) s += "/" + master_name;
      if (db != 0) s += "?db=" + std::to_string(db);
      return s;
    }
  }
  return "?";
}

}  // namespace stopgate::redis
