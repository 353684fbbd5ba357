// State shared by the HTTP server and its connections (internal to gateway/http).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/auth.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/http/counters.hpp"
#include "gateway/http/router.hpp"
#include "gateway/http/server.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace stopgate::gateway::http {

/// One configuration generation as requests see it. Immutable.
struct settings_snapshot {
  settings_snapshot(std::shared_ptr<const config::settings> s, std::uint64_t gen)
      : settings(std::move(s)), keys(*settings), generation(gen) {}
  std::shared_ptr<const config::settings> settings;
  api::key_table keys;
  std::uint64_t generation;
};

/// What the server can ask of a live connection, from any thread (posted to its strand).
class connection_base {
 public:
  virtual ~connection_base() = default;
  /// Finish the request being handled (answered with Connection: close), drop an idle wait.
  virtual void begin_shutdown() = 0;
  /// Close now.
  virtual void force_close() = 0;
};

struct server_state {
  server_state(std::shared_ptr<api::dispatcher> d, providers p, std::size_t contexts,
               std::shared_ptr<const config::settings> s)
      : dispatch(std::move(d)),
        provide(std::move(p)),
        counters(contexts),
        snapshot_(std::make_shared<settings_snapshot>(std::move(s), 1)) {}

  std::shared_ptr<api::dispatcher> dispatch;
  providers provide;
  router routes;  // frozen once started
  std::vector<std::string> route_labels;
  http_counters counters;
  std::atomic<bool> stopping{false};
  /// Open connections: reserved at accept (max_connections), released at close.
  std::atomic<std::int64_t> open{0};

  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const settings_snapshot> snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }
  void set_settings(std::shared_ptr<const config::settings> s) {
    std::lock_guard lock(mutex_);
    snapshot_ = std::make_shared<settings_snapshot>(std::move(s), snapshot_->generation + 1);
    generation_.store(snapshot_->generation, std::memory_order_release);
  }

  void add_connection(const std::shared_ptr<connection_base>& c) {
    std::lock_guard lock(mutex_);
    live_[c.get()] = c;
  }
  void remove_connection(connection_base* c) {
    std::lock_guard lock(mutex_);
    live_.erase(c);
  }
  template <class F>
  void for_each_connection(F&& f) {
    std::vector<std::shared_ptr<connection_base>> all;
    {
      std::lock_guard lock(mutex_);
      for (auto& [p, w] : live_) {
        if (auto sp = w.lock()) all.push_back(std::move(sp));
      }
    }
    for (auto& c : all) f(c);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const settings_snapshot> snapshot_;
  std::atomic<std::uint64_t> generation_{1};
  std::unordered_map<connection_base*, std::weak_ptr<connection_base>> live_;
};

}  // namespace stopgate::gateway::http
