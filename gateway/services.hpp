// What the request handlers use (the ops, `send`, the webhook and status routes, the dialer
// checks), handed to them at construction instead of fetched from a thread-local or from the
// app: the shared parts, and each event loop's own parts, chosen by the request's loop index
// (api::request_context::worker, http::request::worker, dialer::voice_check::worker).
#pragma once

#include "config/load.hpp"
#include "dnc/lists/mirror.hpp"
#include "dnc/policy/engine.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/prometheus.hpp"
#include "gateway/worker.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace stopgate::gateway {

/// What every request reads; replaced whole on SIGHUP.
struct runtime_config {
  config::settings_ptr settings;
  std::shared_ptr<const dnc::policy::policy_engine> engine;
};

struct services {
  evidence::log* log = nullptr;
  dnc::lists::list_mirror* mirror = nullptr;
  /// The configuration and policy engine in force (the app's: replaced on reload).
  std::function<std::shared_ptr<const runtime_config>()> runtime;
  /// Every /metrics family, for the `stats` op; empty: the op reports none.
  std::function<std::vector<http::metric_family>()> metrics;
  /// One per event loop, in the order of the loops given to the servers. A worker's
  /// connections, contact store and relay are used only on that worker's thread; its contact
  /// store is null until it is set up (the ops then fail closed).
  std::vector<worker*> workers;

  /// The parts of the loop a request runs on. Throws std::out_of_range for an index no
  /// server hands out (the transports answer that as an internal error).
  worker& on(unsigned index) const { return *workers.at(index); }
};

}  // namespace stopgate::gateway
