#include "config/redis_url_check.hpp"

#include <charconv>

namespace stopgate::config {
namespace {

constexpr std::string_view forms =
    "must be \"managed\", \"tcp://HOST:PORT[/DB]\", \"unix:///PATH\", "
    "\"cluster://HOST:PORT,HOST:PORT\" or \"sentinel://HOST:PORT,HOST:PORT/MASTER\" "
    "(optionally \"USER:PASSWORD@\" or \":PASSWORD@\" before the addresses)";

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// %XX escapes well formed; the decoded text in `out`.
bool decode(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
    unsigned v = 0;
    std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    out.push_back(char(v));
    i += 2;
  }
  return true;
}

bool int_in(std::string_view s, int lo, int hi, int& out) noexcept {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

constexpr int max_db = 1'000'000;
const std::string bad_escape = "has a broken %XX escape";

// "host[:port]" or "[v6][:port]".
std::string host_problem(std::string_view hp) {
  std::string_view host = hp, port;
  if (!hp.empty() && hp.front() == '[') {
    const auto close = hp.find(']');
    if (close == std::string_view::npos) return "has an unclosed '[' in a host";
    host = hp.substr(1, close - 1);
    const std::string_view after = hp.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "has text after ']' that is not \":PORT\"";
      port = after.substr(1);
      if (port.empty()) return "has an empty port";
    }
    for (char c : host)
      if (!is_hex(c) && c != ':' && c != '.') return "has an invalid IPv6 address";
  } else {
    if (const auto colon = hp.find(':'); colon != std::string_view::npos) {
      host = hp.substr(0, colon);
      port = hp.substr(colon + 1);
      if (port.empty()) return "has an empty port";
    }
    for (char c : host) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
      if (!ok) return "has an invalid host name";
    }
  }
  if (host.empty()) return "has an address without a host";
  int p = 0;
  if (!port.empty() && !int_in(port, 1, 65535, p)) return "port must be an integer in 1..65535";
  return {};
}

enum allowed : unsigned { a_db = 1, a_sentinel = 2 };

// "k=v&k=v"; `path_db` is the db the path gave (-1: none).
std::string query_problem(std::string_view q, unsigned allow, int path_db) {
  std::string value;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (!decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1), value))
      return bad_escape;
    if (key == "db") {
      int db = 0;
      if (!int_in(value, 0, max_db, db)) return "db must be an integer in 0..1000000";
      if (!(allow & a_db) && db != 0) return "cluster:// has only db 0";
      if (path_db >= 0 && db != path_db) return "gives two different db numbers";
    } else if (key == "username" || key == "password") {
    } else if ((key == "sentinel_username" || key == "sentinel_password") && (allow & a_sentinel)) {
    } else {
      return "query allows only db, username and password (sentinel:// also sentinel_username "
             "and sentinel_password); got \"" +
             std::string(key) + "\"";
    }
  }
  return {};
}

}  // namespace

std::string redis_url_problem(std::string_view url) {
  while (!url.empty() && (url.front() == ' ' || url.front() == '\t')) url.remove_prefix(1);
  while (!url.empty() && (url.back() == ' ' || url.back() == '\t')) url.remove_suffix(1);
  if (url.empty()) return std::string("must not be empty; ") + std::string(forms);
  if (url == "managed") return {};
  enum class scheme { tcp, unix_socket, cluster, sentinel } kind;
  std::string_view rest;
  if (url.starts_with("tcp://")) {
    kind = scheme::tcp;
    rest = url.substr(6);
  } else if (url.starts_with("redis://")) {
    kind = scheme::tcp;
    rest = url.substr(8);
  } else if (url.starts_with("unix://")) {
    kind = scheme::unix_socket;
    rest = url.substr(7);
  } else if (url.starts_with("cluster://")) {
    kind = scheme::cluster;
    rest = url.substr(10);
  } else if (url.starts_with("sentinel://")) {
    kind = scheme::sentinel;
    rest = url.substr(11);
  } else {
    return std::string(forms);
  }
  if (rest.find('#') != std::string_view::npos) return "must not have a fragment ('#')";
  std::string_view query;
  if (const auto qm = rest.find('?'); qm != std::string_view::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  std::string decoded;
  if (kind == scheme::unix_socket) {
    if (!decode(rest, decoded)) return bad_escape;
    if (decoded.empty()) return "unix:// needs a socket path (\"unix:///run/redis.sock\")";
    return query_problem(query, a_db, -1);
  }
  std::string_view path;
  bool has_path = false;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    has_path = true;
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    if (!decode(rest.substr(0, at), decoded)) return bad_escape;
    rest = rest.substr(at + 1);
  }
  if (kind == scheme::tcp) {
    if (auto p = host_problem(rest); !p.empty()) return p;
  } else {
    while (true) {
      const auto comma = rest.find(',');
      if (auto p = host_problem(rest.substr(0, comma)); !p.empty()) return p;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  int db = -1;
  switch (kind) {
    case scheme::tcp:
      if (!path.empty() && !int_in(path, 0, max_db, db))
        return path.find('/') != std::string_view::npos ? "path must be empty or a db number"
                                                        : "db must be an integer in 0..1000000";
      return query_problem(query, a_db, db);
    case scheme::cluster:
      if (!path.empty()) {
        if (!int_in(path, 0, max_db, db)) return "path must be empty or a db number";
        if (db != 0) return "cluster:// has only db 0";
      }
      return query_problem(query, 0, -1);
    case scheme::sentinel:
      if (!has_path || path.empty())
        return "sentinel:// needs the master name: \"sentinel://HOST:PORT,HOST:PORT/mymaster\"";
      if (path.find('/') != std::string_view::npos) return "path must be the master name alone";
      if (!decode(path, decoded)) return bad_escape;
      if (decoded.empty())
        return "sentinel:// needs the master name: \"sentinel://HOST:PORT,HOST:PORT/mymaster\"";
      for (char c : decoded)
        if (static_cast<unsigned char>(c) <= ' ') return "master name must not contain spaces";
      return query_problem(query, a_db | a_sentinel, -1);
    case scheme::unix_socket:
      break;
  }
  return {};
}

}  // namespace stopgate::config
