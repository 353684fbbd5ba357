// Forwarding of `other` messages to a sender's forward_url: best effort, after the webhook
// was acknowledged, a few attempts with backoff, not durable (docs/WEBHOOKS.md).
#include "gateway/webhooks/service.hpp"

#include "gateway/webhooks/worker_state.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::gateway::webhooks {

namespace asio = boost::asio;

void service::forward(per_worker& w, const config::sender_settings& sender, std::string payload) {
  if (stopping_.load()) {
    counters_.forward(false);
    return;
  }
  asio::co_spawn(
      *w.io,
      [this, &w, url = sender.forward_url, name = sender.name,
       payload = std::move(payload)]() -> asio::awaitable<void> {
        if (!w.http) {
          carriers::http::client_options o;
          o.verify_tls = opts_.forward_verify_tls;
          o.max_in_flight = 256;
          w.http = std::make_unique<carriers::http::client>(w.io->get_executor(), o);
        }
        asio::steady_timer t(*w.io);
        auto backoff = opts_.forward_backoff;
        for (unsigned attempt = 1; attempt <= opts_.forward_attempts && !stopping_.load();
             ++attempt) {
          carriers::http::request r;
          r.method = "POST";
          r.url = url;
          r.headers = {{"Content-Type", "application/json"}};
          r.body = payload;
          r.timeout = opts_.forward_timeout;
          auto out = co_await w.http->async_request(std::move(r));
          if (out && out->status >= 200 && out->status < 300) {
            counters_.forward(true);
            co_return;
          }
          // A 4xx other than 408/429 will not get better by asking again.
          if (out && out->status >= 400 && out->status < 500 && out->status != 408 &&
              out->status != 429)
            break;
          if (attempt == opts_.forward_attempts) break;
          t.expires_after(backoff);
          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          backoff *= 2;
        }
        counters_.forward(false);
        spdlog::warn("forward of an inbound message to sender {}'s forward_url ({}) failed", name,
                     carriers::http::url_origin(url));
      },
      asio::detached);
}

}  // namespace stopgate::gateway::webhooks
