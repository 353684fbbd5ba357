// Listener pieces shared by the socket API server and the HTTP server: the TLS server
// context, one SO_REUSEPORT acceptor per io_context, closing acceptors on their own
// executors, and rate-limited logging of refused connections (internal to gateway/).
#pragma once

#include "config/settings.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace stopgate::gateway::net {

/// A TLS 1.2+ server context from a PEM certificate chain and private key (paths resolved
/// against server.data_dir). Failures are logged naming `component`.tls_cert / .tls_key.
boost::system::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_server_context(
    const config::settings& s, const std::filesystem::path& cert, const std::filesystem::path& key,
    std::string_view component);

/// One acceptor per context, all bound to the same address with SO_REUSEPORT so the kernel
/// spreads new connections over the threads; port 0 picks one free port for all. Returns the
/// bound port; on error `out` may hold the acceptors opened so far (close them).
boost::system::result<std::uint16_t> open_acceptors(
    const std::vector<boost::asio::io_context*>& contexts, const config::listen_address& where,
    std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>>& out);

/// Closes an acceptor on its own executor (acceptors are not thread-safe).
template <class Acceptor>
void close_on_own_executor(std::shared_ptr<Acceptor> acc) {
  boost::asio::post(acc->get_executor(), [acc] {
    boost::system::error_code ec;
    acc->close(ec);
  });
}

/// A co_spawn completion for accept loops: logs an escaped exception naming `component`.
void log_listener_failure(std::string_view component, const std::exception_ptr& e);

/// At most one "refused connection" log line per second, with the count since the last line
/// (a flood must not flood the log). Thread-safe.
class refusal_log {
 public:
  void note(std::string_view component, std::string_view why);

 private:
  std::atomic<std::int64_t> last_{0};
  std::atomic<std::uint64_t> since_last_{0};
};

}  // namespace stopgate::gateway::net
