#include "gateway/webhooks/relay_sender.hpp"

#include "gateway/worker.hpp"

#include <spdlog/spdlog.h>

namespace stopgate::gateway::webhooks {

reply_sender relay_sender() {
  return
      [](const config::settings& s, const reply_item& r,
         gateway::worker& w) -> boost::asio::awaitable<send_verdict> {
        if (!w.relay) co_return send_verdict::retry;  // nothing was sent
        carriers::outbound_message msg;
        msg.to = r.to;
        msg.from = r.from;
        msg.body = r.body;
        msg.message_id = r.id;
        const std::string route[] = {r.carrier};
        auto res = co_await w.relay->async_send(s, route, std::move(msg));
        if (res.status == carriers::relay::relay_status::sent) co_return send_verdict::sent;
        spdlog::warn("reply {} via {} failed: {} {}", r.id, r.carrier, res.error_code,
                     res.error_message);
        // The carrier may have taken it: at most once, so never again.
        if (res.outcome_unknown) co_return send_verdict::unknown;
        if (res.failure == carriers::failure_class::retryable) co_return send_verdict::retry;
        co_return send_verdict::failed;
      };
}

}  // namespace stopgate::gateway::webhooks
