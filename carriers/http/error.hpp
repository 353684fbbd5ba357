// Errors of the carrier HTTP client: transport failures only. An HTTP status (429, 500, ...)
// is a response, never one of these; classifying it is the adapter's job.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::carriers::http {

enum class client_errc {
  timeout = 1,      // the request deadline passed (connect, send, wait or read)
  connect_failed,   // TCP connect refused or unreachable
  tls_failed,       // TLS handshake or certificate verification failed
  dns_failed,       // the host name did not resolve
  send_failed,      // the connection broke while sending the request
  recv_failed,      // the connection broke or the reply was malformed while receiving
  too_large,        // the response (headers or body) exceeded client_options::max_response_bytes
  stopped,          // the client was stopped or destroyed, or the awaiting coroutine cancelled
  curl_error,       // any other libcurl failure (the CURLcode text is logged)
  invalid_request,  // bad URL, scheme other than http/https, or a header with CR/LF/NUL
  overloaded,       // client_options::max_in_flight requests already running
};

const boost::system::error_category& client_category() noexcept;
inline boost::system::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// The client_errc for a libcurl CURLcode (given as int so callers need not include curl.h).
/// `cap_hit` says the response-size cap aborted the transfer. Thread-safe (pure).
client_errc errc_from_curl(int curl_code, bool cap_hit) noexcept;

}  // namespace stopgate::carriers::http

template <>
struct boost::system::is_error_code_enum<stopgate::carriers::http::client_errc> : std::true_type {};
