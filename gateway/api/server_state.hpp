// State shared by the socket API server and its connections (internal to gateway/api).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/auth.hpp"
#include "gateway/api/counters.hpp"
#include "gateway/api/dispatcher.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace stopgate::gateway::api {

/// One configuration generation as connections see it. Immutable.
struct settings_snapshot {
  settings_snapshot(std::shared_ptr<const config::settings> s, std::uint64_t gen)
      : settings(std::move(s)), keys(*settings), generation(gen) {}
  std::shared_ptr<const config::settings> settings;
  key_table keys;
  std::uint64_t generation;
};

/// What the server can ask of a live connection, from any thread (each call posts to the
/// connection's strand).
class connection_base {
 public:
  virtual ~connection_base() = default;
  /// Stop reading; finish and write what is in flight; then close.
  virtual void begin_shutdown() = 0;
  /// Close now.
  virtual void force_close() = 0;
};

struct server_state {
  server_state(std::shared_ptr<dispatcher> d, std::size_t contexts,
               std::shared_ptr<const config::settings> s)
      : dispatch(std::move(d)),
        counters(contexts),
        snapshot_(std::make_shared<settings_snapshot>(std::move(s), 1)) {}

  std::shared_ptr<dispatcher> dispatch;
  api_counters counters;
  std::atomic<bool> stopping{false};
  /// Open connections over all listeners: reserved at accept (max_connections), released
  /// when a connection closes.
  std::atomic<std::int64_t> open{0};

  /// The current snapshot's generation: connections compare it per request (one relaxed
  /// load) and fetch the snapshot only when it changed.
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
  /// Calls f(shared_ptr<connection_base>) for every live connection.
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

}  // namespace stopgate::gateway::api
