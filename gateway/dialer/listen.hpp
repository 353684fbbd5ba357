// Listening sockets for the dialer servers: one per worker io_context, all bound to the same
// address with SO_REUSEPORT so the kernel spreads connections (TCP) and datagrams (UDP, by
// source address and port, so a peer's retransmissions reach the same thread) over the
// workers.
#pragma once

#include "config/values.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace stopgate::gateway::dialer {

/// One listening acceptor per context on `where` (port 0: one free port for all). Returns the
/// bound port; on error the acceptors opened so far are in `out`.
boost::system::result<std::uint16_t> open_tcp_listeners(
    const std::vector<boost::asio::io_context*>& contexts, const config::listen_address& where,
    std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>>& out);

/// One bound, non-blocking UDP socket per context on `where`, as above.
boost::system::result<std::uint16_t> open_udp_sockets(
    const std::vector<boost::asio::io_context*>& contexts, const config::listen_address& where,
    std::vector<std::shared_ptr<boost::asio::ip::udp::socket>>& out);

}  // namespace stopgate::gateway::dialer
