#include "gateway/send/relay_call.hpp"

#include "gateway/worker.hpp"

namespace stopgate::gateway::send {

boost::asio::awaitable<carriers::relay::relay_result> async_relay(
    const config::settings& s, std::span<const std::string> route, carriers::outbound_message msg) {
  auto* w = worker::current();
  if (!w || !w->relay) {
    // Only off the worker threads (never in the running gateway): nothing was sent.
    carriers::relay::relay_result r;
    r.failure = carriers::failure_class::permanent;
    r.error_code = "relay_unavailable";
    r.error_message = "no carrier relay on this thread";
    co_return r;
  }
  co_return co_await w->relay->async_send(s, route, std::move(msg));
}

}  // namespace stopgate::gateway::send
