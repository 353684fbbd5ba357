// What the socket API server and the HTTP server share with their connections: the current
// configuration snapshot, the open-connection count, the registry of live connections, and
// the graceful drain at stop (internal to gateway/).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/auth.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stopgate::gateway::net {

/// One configuration generation as connections see it. Immutable.
struct settings_snapshot {
  settings_snapshot(std::shared_ptr<const config::settings> s, std::uint64_t gen)
      : settings(std::move(s)), keys(*settings), generation(gen) {}
  std::shared_ptr<const config::settings> settings;
  api::key_table keys;
  std::uint64_t generation;
};

/// What a server can ask of a live connection, from any thread (each call posts to the
/// connection's strand).
class connection_base {
 public:
  virtual ~connection_base() = default;
  /// Stop taking new requests; finish and write what is in flight; then close.
  virtual void begin_shutdown() = 0;
  /// Close now.
  virtual void force_close() = 0;
};

/// Thread-safe.
class server_core {
 public:
  explicit server_core(std::shared_ptr<const config::settings> s)
      : snapshot_(std::make_shared<settings_snapshot>(std::move(s), 1)) {}

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
  void set_settings(std::shared_ptr<const config::settings> s);

  /// Reserves one of `limit` connection slots; false when all are taken.
  bool reserve_connection(std::uint32_t limit) noexcept;

  void add_connection(const std::shared_ptr<connection_base>& c);
  void remove_connection(connection_base* c);
  /// Calls f(shared_ptr<connection_base>) for every live connection (outside the lock).
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

  /// Graceful stop of the connections (the listeners are closed by the caller first): asks
  /// every connection to finish, waits up to `grace` for them to close, then closes what is
  /// left (waiting at most one more second). `component` names the server in the log.
  boost::asio::awaitable<void> async_drain(std::string_view component, std::chrono::milliseconds grace);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const settings_snapshot> snapshot_;
  std::atomic<std::uint64_t> generation_{1};
  std::unordered_map<connection_base*, std::weak_ptr<connection_base>> live_;
};

}  // namespace stopgate::gateway::net
