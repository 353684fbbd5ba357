// The send op's one call into the carrier relay (carriers/relay/relay.hpp), on the calling
// worker's relay.
#pragma once

#include "carriers/relay/relay.hpp"

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string>

namespace stopgate::gateway::send {

/// Relays `msg` along `route` with the current worker's relay. Must run on a worker thread;
/// `s` must stay alive until completion. Never throws.
boost::asio::awaitable<carriers::relay::relay_result> async_relay(
    const config::settings& s, std::span<const std::string> route, carriers::outbound_message msg);

}  // namespace stopgate::gateway::send
