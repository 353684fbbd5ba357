// Where Redis is: the typed form of `redis.url`.
//
//   managed                                  the embedded server (managed_server.hpp)
//   tcp://host[:port][/db]                   port 6379 by default; host may be [ipv6]
//   tcp://:secret@host:port/2                password in the userinfo (percent-encoded)
//   tcp://host:port?db=2&password=secret     the same as a query
//   unix:///path/to/redis.sock[?db=2&password=secret]
//
// "redis://" is accepted as a synonym of "tcp://".
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace stopgate::redis {

/// A parsed Redis address. Thread-safe value type.
struct endpoint {
  enum class kind { managed, tcp, unix_socket };
  kind type = kind::managed;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string path;      // unix socket path
  std::string password;  // "" = no AUTH
  int db = 0;            // SELECT db after connect when != 0
  /// For logs: "tcp://host:port/db", "unix:///path?db=N", "managed". Never the password.
  std::string to_string() const;
};

/// What is wrong with a redis.url. Messages are meant for the person editing the config.
enum class url_errc {
  empty = 1,          // nothing given
  bad_scheme,         // not "managed", "tcp://", "redis://" or "unix://"
  missing_host,       // tcp URL without a host
  bad_host,           // unbalanced [ ] or a character that cannot be in a host name
  bad_port,           // port not an integer in 1..65535
  missing_path,       // unix URL without a socket path
  bad_db,             // db not an integer in 0..1000000
  conflicting_db,     // db given both in the path and in the query, differently
  bad_percent,        // a broken %XX escape
  username,           // "user:pass@": ACL user names are not supported, use ":pass@"
  unknown_parameter,  // a query parameter other than db and password
  bad_path,           // extra path segments in a tcp URL, or a fragment
};

const boost::system::error_category& url_category() noexcept;
inline boost::system::error_code make_error_code(url_errc e) noexcept {
  return {static_cast<int>(e), url_category()};
}

/// Parses a redis.url (forms above). Pure; thread-safe.
boost::system::result<endpoint> parse_url(std::string_view url);

}  // namespace stopgate::redis

template <>
struct boost::system::is_error_code_enum<stopgate::redis::url_errc> : std::true_type {};
