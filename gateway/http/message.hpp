// The request and response values that HTTP route handlers see and return.
//
// A request is a view of one parsed HTTP/1.1 request: the views point into the connection's
// parser and stay valid until the handler's awaitable completes (copy what must outlive it).
// The body is the raw bytes as received (after de-chunking), never re-encoded, so webhook
// signatures can be verified over it. Header lookups are case-insensitive.
#pragma once

#include "config/settings.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::gateway::http {

namespace beast_http = boost::beast::http;

struct request {
  beast_http::verb method = beast_http::verb::unknown;
  std::string_view target;  // as sent: path and query
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', without it; "" when none
  std::string_view body;    // raw bytes
  const beast_http::fields* fields = nullptr;  // every header (repeated ones included)
  boost::asio::ip::address peer;
  bool loopback = false;  // peer is 127.0.0.0/8, ::1 or IPv4-mapped loopback
  /// http.public_url + target when public_url is configured, else "": the URL a carrier
  /// signed, rebuilt from configuration rather than from the Host header.
  std::string public_url;
  /// The configuration this request was accepted under (never null inside a handler).
  const config::settings* settings = nullptr;
  /// The event loop (worker) the request runs on: the index of its io_context in the list the
  /// server was given.
  unsigned worker = 0;

  /// The first value of header `name` (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, sent as given

  static response text(unsigned status, std::string body);
  static response json(unsigned status, std::string body);
  /// {"ok":false,"error":{"code":CODE,"message":MESSAGE}} with that status.
  static response json_error(unsigned status, std::string_view code, std::string_view message);
};

/// A route handler. Runs on the connection's strand; may suspend on anything. An exception
/// is logged and answered with 500.
using route_handler = std::function<boost::asio::awaitable<response>(const request&)>;

/// The path part of a request target ("/a/b?x=1" -> "/a/b") and its query ("x=1").
std::pair<std::string_view, std::string_view> split_target(std::string_view target) noexcept;

}  // namespace stopgate::gateway::http
