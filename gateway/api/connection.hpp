// One socket API connection: framing, auth, pipelined requests, coalesced writes, limits.
//
// Each connection runs on its socket's executor (a strand only when that io_context may be
// run by several threads): a reader coroutine (frames lines, answers ping/auth/errors inline,
// hands the batchable requests of each read to one coroutine and spawns one for each other
// request), a writer coroutine started when responses are waiting, and a watchdog for the
// idle and write timeouts. See docs/SOCKET_API.md for the behaviour.
#pragma once

#include "gateway/api/server_state.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cstddef>
#include <memory>

namespace stopgate::gateway::api {

/// Starts serving an accepted socket. The connection registers itself in `state`, counts
/// itself in counter block `context_index`, and lives until it closes. Thread-safe; returns
/// at once (all work runs on the connection's executor).
void start_connection(const std::shared_ptr<server_state>& state,
                      boost::asio::ip::tcp::socket socket, std::size_t context_index,
                      bool loopback);
/// As above for TLS; the handshake runs first, under the idle timeout.
void start_connection(const std::shared_ptr<server_state>& state,
                      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream,
                      std::size_t context_index, bool loopback);
/// As above for a unix-socket peer (treated as loopback).
void start_connection(const std::shared_ptr<server_state>& state,
                      boost::asio::local::stream_protocol::socket socket,
                      std::size_t context_index);

}  // namespace stopgate::gateway::api
