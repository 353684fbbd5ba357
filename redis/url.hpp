// Where Redis is: the typed form of `redis.url`.
//
//   managed                                  the embedded server (managed_server.hpp)
//   tcp://host[:port][/db]                   port 6379 by default; host may be [ipv6]
//   tcp://user:secret@host:port/2            ACL user and password in the userinfo
//   tcp://:secret@host:port/2                password only (the default user)
//   tcp://host:port?db=2&username=u&password=secret   the same as a query
//   unix:///path/to/redis.sock[?db=2&username=u&password=secret]
//   cluster://[user:secret@]host:port,host:port[?username=u&password=secret]
//                                            seed nodes of a Redis Cluster (db 0 only)
//   sentinel://[user:secret@]host:port,host:port/MASTER[?db=2&password=secret
//                &sentinel_username=u&sentinel_password=s]
//                                            Sentinels (port 26379 by default) watching MASTER
//
// "redis://" is accepted as a synonym of "tcp://".
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace stopgate::redis {

/// One node address of a cluster or sentinel URL.
struct host_port {
  std::string host;
  int port = 0;
  friend bool operator==(const host_port&, const host_port&) = default;
};

/// A parsed Redis address. Thread-safe value type.
struct endpoint {
  enum class kind { managed, tcp, unix_socket, cluster, sentinel };
  kind type = kind::managed;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string path;      // unix socket path
  std::string username;  // ACL user for AUTH; "" = the default user
  std::string password;  // "" = no AUTH
  int db = 0;            // SELECT db after connect when != 0 (never on a cluster)
  /// cluster: the seed nodes; sentinel: the Sentinels. host and port repeat the first one.
  std::vector<host_port> nodes;
  std::string master_name;        // sentinel: the name the Sentinels monitor the primary by
  std::string sentinel_username;  // sentinel: AUTH to the Sentinels themselves ("" = none)
  std::string sentinel_password;
  /// For logs: "tcp://host:port/db", "unix:///path?db=N", "cluster://h:p,h:p",
  /// "sentinel://h:p,h:p/name", "managed". Never the user name or a password.
  std::string to_string() const;
};

/// What is wrong with a redis.url. Messages are meant for the person editing the config.
enum class url_errc {
  empty = 1,          // nothing given
  bad_scheme,         // not "managed", "tcp://", "redis://", "unix://", "cluster://", "sentinel://"
  missing_host,       // a URL (or one entry of a node list) without a host
  bad_host,           // unbalanced [ ] or a character that cannot be in a host name
  bad_port,           // port not an integer in 1..65535
  missing_path,       // unix URL without a socket path
  bad_db,             // db not an integer in 0..1000000
  conflicting_db,     // db given both in the path and in the query, differently
  bad_percent,        // a broken %XX escape
  unknown_parameter,  // a query parameter this scheme does not take
  bad_path,           // extra path segments, or a fragment
  missing_master,     // sentinel URL without "/MASTER"
  cluster_db,         // a cluster URL with a db other than 0 (a cluster has only db 0)
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
