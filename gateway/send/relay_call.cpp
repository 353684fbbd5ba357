#include "gateway/send/relay_call.hpp"

namespace stopgate::gateway::send {

boost::asio::awaitable<carriers::relay::relay_result> async_relay(
    carriers::relay::relay* relay, const config::settings& s, std::span<const std::string> route,
    carriers::outbound_message msg) {
  if (!relay) {
    // A worker without a relay (a test bed that has none): nothing was sent.
    carriers::relay::relay_result r;
    r.failure = carriers::failure_class::permanent;
    r.error_code = "relay_unavailable";
    r.error_message = "no carrier relay on this worker";
    co_return r;
  }
  co_return co_await relay->async_send(s, route, std::move(msg));
}

}  // namespace stopgate::gateway::send
