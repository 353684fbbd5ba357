// The send op's one call into the carrier relay (carriers/relay/relay.hpp), on the request's
// worker's relay.
#pragma once

#include "carriers/relay/relay.hpp"

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string>

namespace stopgate::gateway::send {

/// Relays `msg` along `route` with `relay` (the request's worker's; used on that worker's
/// thread). A null relay sends nothing and answers a permanent failure. `s` must stay alive
/// until completion. Never throws.
boost::asio::awaitable<carriers::relay::relay_result> async_relay(
    carriers::relay::relay* relay, const config::settings& s, std::span<const std::string> route,
    carriers::outbound_message msg);

}  // namespace stopgate::gateway::send
