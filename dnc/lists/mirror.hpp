// The gateway's in-process read-only copy of every DNC list's current generation. The check
// path reads it without locks or I/O (~30 ns a lookup); a refresh reads changed lists from
// Redis and swaps the whole snapshot at once, so a check sees the old or the new generation
// of a list, never a mix. Refreshes are triggered by the load announcements (pub/sub), after
// every (re)subscription, and by a periodic poll as a safety net.
#pragma once

#include "dnc/lists/store.hpp"
#include "redis/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace stopgate::dnc::lists {

class list_mirror {
 public:
  struct options {
    redis::client_options redis;                    // its own connections (bulk reads)
    std::chrono::milliseconds poll_interval{5000};  // safety net besides pub/sub
  };

  /// Runs on `ex` (one thread or a strand); current() may be called from any thread.
  list_mirror(boost::asio::any_io_executor ex, options opts);
  ~list_mirror();

  /// Connects, subscribes and keeps the copy fresh until stop().
  void start();
  void stop();

  /// Any thread, wait-free for practical purposes: the snapshot to answer one request with.
  std::shared_ptr<const model::lists_snapshot> current() const noexcept { return current_.load(); }

  /// Reads every list whose generation changed and installs the new snapshot.
  boost::asio::awaitable<boost::system::error_code> async_refresh();

  /// Called on the mirror's executor after a new snapshot is installed.
  void on_installed(std::function<void(const model::lists_snapshot&)> f) {
    on_installed_ = std::move(f);
  }

  /// Completed refreshes and failures, for /metrics.
  std::uint64_t refreshes() const noexcept { return refreshes_.load(); }
  std::uint64_t failures() const noexcept { return failures_.load(); }

 private:
  boost::asio::awaitable<void> run();
  void wake();

  boost::asio::any_io_executor ex_;
  options opts_;
  redis::client client_;
  redis::subscriber subscriber_;
  list_store store_;
  std::atomic<std::shared_ptr<const model::lists_snapshot>> current_;
  boost::asio::steady_timer wake_;
  bool dirty_ = true;
  bool stopped_ = false;
  std::function<void(const model::lists_snapshot&)> on_installed_;
  std::atomic<std::uint64_t> refreshes_{0}, failures_{0};
};

}  // namespace stopgate::dnc::lists
