// The carrier HTTP client: libcurl's multi-socket API driven by the caller's Asio executor.
// Connections are reused across requests (one connection cache per client), HTTP/2 is offered
// over TLS and multiplexed when the server agrees, TLS peers are verified by default, and
// every request has a deadline and a response-size cap.
//
//   http::client c(io.get_executor(), {});
//   auto r = co_await c.async_request({.method = "POST", .url = "https://api.example/v1/send",
//                                      .headers = {{"Content-Type", "application/json"}},
//                                      .body = json, .timeout = 3s});
//   if (!r) { if (!r.error().request_sent) { /* provably not accepted: fail over */ } }
#pragma once

#include "carriers/http/error.hpp"
#include "carriers/http/message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>

namespace stopgate::carriers::http {

namespace detail {
class multi_bridge;
}

/// One per executor (an io_context run by one thread). Not thread-safe: construct, call and
/// destroy it on that executor only. Uses no threads of its own (libcurl's resolver may use a
/// short-lived thread for host-name lookups; see docs/dev/HTTP_CLIENT.md). Completions never run
/// inline inside libcurl: a finished request resumes its coroutine through the executor.
class client {
 public:
  using options = client_options;

  client(boost::asio::any_io_executor ex, client_options opts);
  /// Fails every request in flight with client_errc::stopped (their coroutines resume later,
  /// through the executor) and closes every connection.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Runs one request. A response of any HTTP status is a value; a transport failure is a
  /// `failure` with a client_errc and request_sent (see message.hpp). Fails at once (without
  /// suspending for I/O) with invalid_request, overloaded or stopped. Must be awaited on the
  /// client's executor. Cancelling the awaiting coroutine (per-operation cancellation) aborts
  /// the transfer and yields client_errc::stopped.
  boost::asio::awaitable<outcome> async_request(request r);

  /// As the destructor, but the client stays valid; every later request fails with stopped.
  void stop();
  /// Requests handed to curl and not yet completed (including those queued for a connection).
  std::size_t in_flight() const noexcept;

 private:
  std::shared_ptr<detail::multi_bridge> bridge_;
};

}  // namespace stopgate::carriers::http
