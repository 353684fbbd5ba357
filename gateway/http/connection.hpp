// One HTTP connection: a coroutine on its own strand that reads a request, routes it,
// writes the response, and repeats while keep-alive holds (internal to gateway/http).
#pragma once

#include "gateway/http/server_state.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace stopgate::gateway::http {

/// Starts serving `socket` (whose executor must be a strand). `tls`: null for plain HTTP,
/// else the context to handshake with (kept alive by the connection).
void start_connection(const std::shared_ptr<server_state>& state, boost::asio::ip::tcp::socket socket,
                      std::shared_ptr<boost::asio::ssl::context> tls, std::size_t context_index,
                      const boost::asio::ip::address& peer, bool loopback);

}  // namespace stopgate::gateway::http
