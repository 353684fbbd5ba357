// The socket API server (SPEC section 3): TCP, TLS and unix-socket listeners feeding
// connections that hand requests to a dispatcher.
//
// Threading: one TCP (and one TLS) acceptor per io_context, all bound to the same port with
// SO_REUSEPORT, so each thread accepts and serves its own connections; the unix-socket
// acceptor runs on the first context and hands connections round-robin to all contexts.
// Public methods are thread-safe. The io_contexts must outlive the server's connections
// (run them until async_stop completes).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/counters.hpp"
#include "gateway/api/dispatcher.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace stopgate::gateway::api {

struct server_state;
struct listeners;

class api_server {
 public:
  /// `contexts` must be non-empty; a context may be run by one or more threads.
  api_server(std::vector<boost::asio::io_context*> contexts,
             std::shared_ptr<const config::settings> settings,
             std::shared_ptr<dispatcher> dispatch);
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Opens the configured listeners and starts accepting. An error (address in use, bad
  /// certificate, unusable socket path) is returned with a log line; nothing is left open.
  boost::system::error_code start();

  /// Stops accepting, lets connections finish the requests they have read (no new lines are
  /// taken) for up to `grace`, then closes what is left. Completes when every connection is
  /// closed. Call once.
  boost::asio::awaitable<void> async_stop(std::chrono::milliseconds grace);

  /// A reloaded configuration: API keys, limits and the TLS certificate apply to the next
  /// request or connection; open connections stay. Listener addresses need a restart.
  void update_settings(std::shared_ptr<const config::settings> settings);

  /// Counters summed over all threads.
  counters_snapshot stats() const;

  /// The bound ports (useful with port 0 in tests); 0 when that listener is off.
  std::uint16_t tcp_port() const noexcept { return tcp_port_; }
  std::uint16_t tls_port() const noexcept { return tls_port_; }

 private:
  std::vector<boost::asio::io_context*> contexts_;
  std::shared_ptr<server_state> state_;
  std::shared_ptr<listeners> listeners_;
  std::uint16_t tcp_port_ = 0;
  std::uint16_t tls_port_ = 0;
};

}  // namespace stopgate::gateway::api
