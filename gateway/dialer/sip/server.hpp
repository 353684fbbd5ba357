// The SIP redirect gate's Asio shell ([dialer.sip] listen, UDP and TCP on one port): per
// worker io_context one UDP socket and one TCP acceptor (SO_REUSEPORT, so a peer's datagrams
// keep reaching the same thread), one sip::gate with that worker's transactions, and one
// timer armed at the gate's next deadline. Each message is handed to the gate; what the gate
// asks for is done at once: datagrams sent (non-blocking; a full buffer drops one, SIP
// retransmits), TCP responses queued on their connection, checks spawned on the same thread.
//
// Public methods are thread-safe. The io_contexts must outlive the server (run them until
// async_stop completes).
#pragma once

#include "config/settings.hpp"
#include "gateway/dialer/sip/gate.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace stopgate::gateway::dialer::sip {

struct endpoint;
struct server_shared;

class server {
 public:
  server(std::vector<boost::asio::io_context*> contexts,
         std::shared_ptr<const config::settings> settings, std::shared_ptr<voice_checker> checker);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Opens dialer.sip.listen (nothing when it is off) for the configured transports.
  boost::system::error_code start();
  /// Stops receiving and closes every socket; transactions in progress are dropped (their
  /// clients retransmit to another gate or give up). Completes once every worker has closed.
  boost::asio::awaitable<void> async_stop(std::chrono::milliseconds grace);
  /// The sender table, statuses, timers and limits apply to new transactions; the address and
  /// transports need a restart.
  void update_settings(std::shared_ptr<const config::settings> settings);

  std::uint16_t port() const noexcept { return port_; }
  /// Every worker's gate counters, summed (sampled on each worker's own thread).
  gate_counters stats() const;

 private:
  std::vector<boost::asio::io_context*> contexts_;
  std::shared_ptr<server_shared> shared_;
  std::vector<std::shared_ptr<endpoint>> endpoints_;
  std::uint16_t port_ = 0;
};

}  // namespace stopgate::gateway::dialer::sip
