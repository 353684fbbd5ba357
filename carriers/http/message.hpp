// Values of the carrier HTTP client: what a caller asks for, what comes back, how it failed,
// and the client's settings.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost {
struct source_location;
}

namespace stopgate::carriers::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// HTTP Basic credentials (curl builds the Authorization header). A bearer token is a header.
struct basic_auth {
  std::string user;
  std::string password;
};

/// One request. `method` is any token ("GET", "POST", "PUT", ...); the body is sent for
/// every method except GET and HEAD. `timeout` bounds the whole exchange, from queueing for
/// a connection to the last body byte.
struct request {
  std::string method = "POST";
  std::string url;  // http:// or https:// only
  header_list headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
  std::optional<basic_auth> auth;
};

/// A response of any status: a 429 or 500 is a response, not a failure.
struct response {
  long status = 0;
  header_list headers;  // in arrival order, of the final response (not of a 100 Continue)
  std::string body;
  std::chrono::microseconds elapsed{};  // whole exchange, as libcurl measured it
  bool request_sent = true;             // always true for a response; see failure

  /// The first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// Why a request produced no response.
struct failure {
  boost::system::error_code code;  // a client_errc
  /// True once the request was (or may have been) handed to the connection: libcurl
  /// reached the point right before sending it. A failure with request_sent == true does NOT
  /// prove the server did not accept the request; one with false does (no byte of it left).
  bool request_sent = false;
  std::chrono::microseconds elapsed{};
};

/// Thrown only by outcome::value() on a failure (use has_value()/error() instead).
[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

using outcome = boost::system::result<response, failure>;

/// Settings of one client, fixed at construction.
struct client_options {
  bool verify_tls = true;                    // verify the peer certificate and host name
  std::string ca_file;                       // extra CA bundle (PEM); empty = system store
  long max_connections_per_host = 64;        // CURLMOPT_MAX_HOST_CONNECTIONS; extra requests queue
  long max_total_connections = 0;            // CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = no limit
  long max_idle_connections = 256;           // CURLMOPT_MAXCONNECTS: size of the connection cache
  std::size_t max_response_bytes = 1 << 20;  // headers and body each; beyond -> too_large
  std::size_t max_in_flight = 4096;          // beyond -> overloaded at once
  bool http2 = true;                         // offer h2 over TLS (ALPN), multiplex when agreed
};

/// Checks what libcurl would not: a method that is a token, an http/https URL without
/// whitespace or control bytes, header names that are tokens and values without CR, LF or
/// NUL (no header injection), a positive timeout. Success or client_errc::invalid_request.
/// Thread-safe (pure).
boost::system::error_code check_request(const request& r) noexcept;

/// "host:port" of a URL, without scheme, user info, path or query: safe for logs.
std::string_view url_origin(std::string_view url) noexcept;

}  // namespace stopgate::carriers::http
