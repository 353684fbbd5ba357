// State shared by the HTTP server and its connections (internal to gateway/http).
#pragma once

#include "gateway/api/dispatcher.hpp"
#include "gateway/http/counters.hpp"
#include "gateway/http/router.hpp"
#include "gateway/http/server.hpp"
#include "gateway/net/server_core.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stopgate::gateway::http {

using settings_snapshot = net::settings_snapshot;
using connection_base = net::connection_base;

struct server_state : net::server_core {
  server_state(std::shared_ptr<api::dispatcher> d, providers p, std::size_t contexts,
               std::shared_ptr<const config::settings> s)
      : net::server_core(std::move(s)), dispatch(std::move(d)), provide(std::move(p)), counters(contexts) {}

  std::shared_ptr<api::dispatcher> dispatch;
  providers provide;
  router routes;  // frozen once started
  std::vector<std::string> route_labels;
  http_counters counters;
};

}  // namespace stopgate::gateway::http
