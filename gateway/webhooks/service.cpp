#include "gateway/webhooks/service.hpp"

#include "gateway/webhooks/worker_state.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <future>

namespace stopgate::gateway::webhooks {

namespace asio = boost::asio;

service::service(evidence::log& log, settings_provider settings, reply_sender send,
                 std::vector<gateway::worker*> workers, service_options opts)
    : log_(log),
      settings_(std::move(settings)),
      send_(std::move(send)),
      opts_(std::move(opts)),
      store_(opts_.store) {
  if (!opts_.clock) opts_.clock = [] { return std::chrono::system_clock::now(); };
  for (unsigned i = 0; i < workers.size(); ++i) {
    auto w = std::make_unique<per_worker>();
    w->gw = workers[i];
    w->io = &workers[i]->io;
    w->index = i;
    workers_.push_back(std::move(w));
  }
}

service::~service() = default;

std::int64_t service::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(opts_.clock().time_since_epoch())
      .count();
}

boost::system::error_code service::register_routes(http::http_server& server) {
  auto handler = [this](const http::request& req) { return handle(req); };
  if (auto ec = server.add_route(http::beast_http::verb::post, "/v1/inbound/", handler)) return ec;
  // Twilio, Vonage and Plivo can be configured to call with GET (fields in the query).
  return server.add_route(http::beast_http::verb::get, "/v1/inbound/", handler);
}

void service::start() {
  for (auto& w : workers_) asio::co_spawn(*w->io, drain_loop(*w), asio::detached);
}

void service::stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::future<void>> done;
  for (auto& w : workers_)
    done.push_back(asio::post(*w->io, asio::use_future([wp = w.get()] {
      if (wp->timer) wp->timer->cancel();
      if (wp->http) wp->http->stop();  // in-flight forwards fail with `stopped`
    })));
  for (auto& f : done)
    if (f.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
      spdlog::warn("webhooks: a worker did not acknowledge the stop in time");
}

}  // namespace stopgate::gateway::webhooks
