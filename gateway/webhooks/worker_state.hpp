// Internal to the webhook service: what it keeps per worker thread (the drainer's timer, the
// forwarder's HTTP client). Each is created, used and destroyed on its worker's thread.
#pragma once

#include "carriers/http/client.hpp"
#include "gateway/webhooks/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace stopgate::gateway::webhooks {

struct service::per_worker {
  gateway::worker* gw = nullptr;  // its loop, Redis connection and contact store
  boost::asio::io_context* io = nullptr;
  unsigned index = 0;
  std::unique_ptr<boost::asio::steady_timer> timer;  // the drainer's wait; cancelled to wake it
  std::unique_ptr<carriers::http::client> http;      // forwards; made on first use
  std::size_t in_flight = 0;                         // replies being sent
  bool woken = false;                                // a reply was queued while draining
};

}  // namespace stopgate::gateway::webhooks
