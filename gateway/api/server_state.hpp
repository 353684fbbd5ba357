// State shared by the socket API server and its connections (internal to gateway/api).
#pragma once

#include "gateway/api/batch.hpp"
#include "gateway/api/counters.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/net/server_core.hpp"

#include <memory>

namespace stopgate::gateway::api {

using settings_snapshot = net::settings_snapshot;
using connection_base = net::connection_base;

struct server_state : net::server_core {
  server_state(std::shared_ptr<dispatcher> d, std::size_t contexts, std::shared_ptr<const config::settings> s)
      : net::server_core(std::move(s)),
        dispatch(std::move(d)),
        batch(dynamic_cast<batch_handler*>(dispatch.get())),
        counters(contexts) {}

  std::shared_ptr<dispatcher> dispatch;
  batch_handler* batch;  // the dispatcher's batch interface, or null (owned by `dispatch`)
  api_counters counters;
};

}  // namespace stopgate::gateway::api
