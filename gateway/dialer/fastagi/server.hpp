// The FastAGI server ([dialer.fastagi] listen, conventional port 4573): the thin Asio shell
// around fastagi::session. One acceptor per worker io_context (SO_REUSEPORT); each
// connection is one coroutine on the thread that accepted it, so its check runs on that
// worker's Redis connection. Deadlines: read_timeout_ms for the agi_* block and for each
// reply, check_timeout_ms for the check (then a fail-closed deny); max_line_bytes per line;
// max_connections in all (further connections are closed at accept).
//
// Public methods are thread-safe. The io_contexts must outlive the server's connections (run
// them until async_stop completes).
#pragma once

#include "config/settings.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace stopgate::gateway::dialer::fastagi {

/// Counters since start.
struct server_stats {
  std::uint64_t sessions = 0;   // connections served
  std::uint64_t checks = 0;     // checks answered to Asterisk (or to a hung-up channel)
  std::uint64_t malformed = 0;  // sessions closed for bad input or an error reply
  std::uint64_t timeouts = 0;   // sessions closed for a read deadline
  std::uint64_t refused = 0;    // connections closed at accept (max_connections)
  std::int64_t open = 0;
};

struct server_state;

class server {
 public:
  server(std::vector<boost::asio::io_context*> contexts,
         std::shared_ptr<const config::settings> settings, std::shared_ptr<voice_checker> checker);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Opens dialer.fastagi.listen (nothing when it is off) and starts accepting.
  boost::system::error_code start();
  /// Stops accepting; sessions in progress get `grace` to finish, then are closed.
  boost::asio::awaitable<void> async_stop(std::chrono::milliseconds grace);
  /// Timeouts, limits and defaults apply to the next connection; the address needs a restart.
  void update_settings(std::shared_ptr<const config::settings> settings);

  std::uint16_t port() const noexcept { return port_; }
  server_stats stats() const;

 private:
  std::vector<boost::asio::io_context*> contexts_;
  std::shared_ptr<server_state> state_;
  std::uint16_t port_ = 0;
};

}  // namespace stopgate::gateway::dialer::fastagi
