// The gateway's HTTP server (SPEC section 4) on the gateway's own event loops (Boost.Beast).
//
// Routes: GET /healthz, GET /readyz, GET /metrics, POST /v1/ops, plus hook routes added with
// add_route (the carrier webhooks). Limits from [http]: max_header_bytes (431),
// max_body_bytes (413), read_timeout_ms (a deadline on every read and write; a slow client is
// closed), max_connections (further connections are closed at accept). Keep-alive; optional
// TLS (1.2+) when http.tls_cert and http.tls_key are set.
//
// Threading: one acceptor per io_context, all bound to the same port with SO_REUSEPORT, so
// each thread accepts and serves its own connections; each connection is one coroutine on a
// strand of its context. Public methods are thread-safe unless noted. The io_contexts must
// outlive the server's connections (run them until async_stop completes).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/http/counters.hpp"
#include "gateway/http/message.hpp"
#include "gateway/http/prometheus.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stopgate::gateway::http {

/// What /readyz reports. Ready when nothing is missing.
struct readiness {
  bool redis_ok = true;
  bool lists_loaded = true;
  /// What is not there yet, for people: "redis", "list:federal", ...
  std::vector<std::string> missing;
  bool ready() const noexcept { return redis_ok && lists_loaded && missing.empty(); }
};

/// Callbacks the daemon supplies. Both are called on a connection's thread, once per
/// request, and must be thread-safe and quick (no blocking I/O). Either may be empty:
/// no `ready` means always ready; no `metrics` means only the HTTP server's own metrics.
struct providers {
  std::function<readiness()> ready;
  std::function<std::vector<metric_family>()> metrics;
};

struct server_state;
struct http_listeners;

class http_server {
 public:
  /// `contexts` must be non-empty; `dispatch` serves POST /v1/ops (nullptr: 503 on it).
  http_server(std::vector<boost::asio::io_context*> contexts,
              std::shared_ptr<const config::settings> settings,
              std::shared_ptr<api::dispatcher> dispatch, providers provide);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Adds a route for `method` and every path starting with `path_prefix` (the longest
  /// matching prefix wins; built-in exact routes win over prefixes). Not thread-safe: call
  /// before start(). Errors: http_errc::already_started, bad_route, route_taken,
  /// too_many_routes (max_routes in all, the five built-ins included).
  boost::system::error_code add_route(beast_http::verb method, std::string path_prefix,
                                      route_handler handler);

  /// Opens the listener (http.listen; nullopt: nothing to open) and starts accepting. An
  /// error (address in use, bad certificate) is returned with a log line; nothing is left
  /// open.
  boost::system::error_code start();

  /// Stops accepting; idle connections close at once; a request being handled is finished
  /// and answered (with Connection: close) for up to `grace`; then whatever is left is
  /// closed. Completes when every connection is closed. Call once.
  boost::asio::awaitable<void> async_stop(std::chrono::milliseconds grace);

  /// A reloaded configuration: API keys, limits, public_url and the TLS certificate apply to
  /// the next request or connection; open connections stay. The listen address needs a
  /// restart.
  void update_settings(std::shared_ptr<const config::settings> settings);

  /// The stopgate_http_* metric families (also included in /metrics).
  std::vector<metric_family> metric_families() const;
  http_counters_snapshot stats() const;
  /// The route index that stats() uses for `path` (exact path or prefix), or unmatched_route.
  std::size_t route_index(std::string_view path) const;

  /// The bound port (useful with port 0); 0 when not listening.
  std::uint16_t port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_; }

 private:
  std::vector<boost::asio::io_context*> contexts_;
  std::shared_ptr<server_state> state_;
  std::shared_ptr<http_listeners> listeners_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
  bool started_ = false;
};

}  // namespace stopgate::gateway::http
