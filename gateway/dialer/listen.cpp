#include "gateway/dialer/listen.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>

namespace stopgate::gateway::dialer {
namespace {

namespace asio = boost::asio;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

boost::system::result<asio::ip::address> resolve(asio::io_context& io,
                                                 const config::listen_address& a) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(a.host, ec);
  if (!ec) return addr;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec) return ec;
  if (results.empty()) return asio::error::host_not_found;
  return results.begin()->endpoint().address();
}

}  // namespace

boost::system::result<std::uint16_t> open_tcp_listeners(
    const std::vector<asio::io_context*>& contexts, const config::listen_address& where,
    std::vector<std::shared_ptr<asio::ip::tcp::acceptor>>& out) {
  auto addr = resolve(*contexts.front(), where);
  if (!addr) return addr.error();
  asio::ip::tcp::endpoint endpoint(*addr, where.port);
  for (auto* io : contexts) {
    auto acc = std::make_shared<asio::ip::tcp::acceptor>(*io);
    boost::system::error_code ec;
    acc->open(endpoint.protocol(), ec);
    if (!ec) acc->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->set_option(reuse_port(true), ec);
    if (!ec) acc->bind(endpoint, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return ec;
    // Port 0 picks a free port once; the other acceptors join it.
    endpoint.port(acc->local_endpoint().port());
    out.push_back(std::move(acc));
  }
  return endpoint.port();
}

boost::system::result<std::uint16_t> open_udp_sockets(
    const std::vector<asio::io_context*>& contexts, const config::listen_address& where,
    std::vector<std::shared_ptr<asio::ip::udp::socket>>& out) {
  auto addr = resolve(*contexts.front(), where);
  if (!addr) return addr.error();
  asio::ip::udp::endpoint endpoint(*addr, where.port);
  for (auto* io : contexts) {
    auto sock = std::make_shared<asio::ip::udp::socket>(*io);
    boost::system::error_code ec;
    sock->open(endpoint.protocol(), ec);
    if (!ec) sock->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) sock->set_option(reuse_port(true), ec);
    // A burst of INVITEs must not be dropped by a small kernel buffer.
    if (!ec) sock->set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
    if (!ec) sock->bind(endpoint, ec);
    // Sends never block the worker: a full send buffer drops the datagram, as a lossy
    // network would, and SIP's retransmissions recover.
    if (!ec) sock->non_blocking(true, ec);
    if (ec) return ec;
    endpoint.port(sock->local_endpoint().port());
    out.push_back(std::move(sock));
  }
  return endpoint.port();
}

}  // namespace stopgate::gateway::dialer
