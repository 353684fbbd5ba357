// Internal: the Redis Cluster side of redis::client. A slot map loaded from CLUSTER SHARDS
// (or CLUSTER SLOTS), one connection per primary, commands routed by their key's slot,
// MOVED / ASK followed, TRYAGAIN / CLUSTERDOWN / lost connections retried with backoff,
// pipelines split by node and put back in request order. Not a public API: use client.
#pragma once

#include "redis/cluster_replies.hpp"
#include "redis/connection.hpp"
#include "redis/options.hpp"
#include "redis/pipeline.hpp"
#include "redis/reply.hpp"
#include "redis/routing.hpp"
#include "redis/stats.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stopgate::redis::detail {

/// Errors after which sending a command again cannot help, or could run it twice past its
/// deadline: timeout, overloaded, protocol, bad_command, cancellation.
bool final_error(const boost::system::error_code& ec) noexcept;
/// The first reply of a unit that asks for the unit to be sent again (MOVED, ASK, TRYAGAIN,
/// CLUSTERDOWN), or nullptr.
const reply* needs_resend(std::span<const reply> replies) noexcept;

/// Executor-confined like client: every member runs on the executor it was built with.
class cluster : public std::enable_shared_from_this<cluster> {
 public:
  cluster(boost::asio::any_io_executor ex, client_options opts);
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  void start();
  void stop();
  /// A slot map is loaded and every primary in it has a ready connection.
  bool ready() const noexcept;
  boost::asio::awaitable<boost::system::error_code> async_wait_connected(
      std::chrono::milliseconds timeout);
  /// `args` and `p` are copied before the first suspension.
  boost::asio::awaitable<boost::system::result<reply>> async_exec(
      std::span<const std::string_view> args, key_index key);
  boost::asio::awaitable<boost::system::result<std::vector<reply>>> async_exec(const pipeline& p);
  const client_stats& stats() const noexcept { return stats_; }

  // Server-assisted invalidation for a local cache (client::enable_tracking; the protocol is
  // in cluster_tracking.cpp and docs/dev/CONTACTS.md "A cache on a cluster").
  void enable_tracking(std::function<void(std::span<const std::string_view>)> on_keys,
                       std::function<void()> on_reset);
  std::uint64_t tracking_epoch() const noexcept { return tracking_epoch_; }
  bool tracked(int slot) const noexcept;
  boost::asio::awaitable<std::vector<std::uint8_t>> async_tracking_barrier(
      std::span<const std::uint16_t> slots);

 private:
  struct tracker;
  struct node {
    std::string host;
    int port = 0;
    std::shared_ptr<connection> conn;
    std::shared_ptr<connection> tconn;  // enable_tracking() only: the tracking connection
    std::shared_ptr<tracker> trk;
  };
  struct waiter;

  std::shared_ptr<node> get_node(const std::string& host, int port);
  std::shared_ptr<node> node_for(int slot);
  void set_slot(std::uint16_t slot, const std::shared_ptr<node>& n);
  void stop_node(node& n);
  void apply_map(const std::vector<slot_range>& ranges);
  void check_ready();
  void request_refresh();
  boost::asio::awaitable<void> refresh_loop(std::shared_ptr<cluster> self);
  boost::asio::awaitable<bool> load_map();
  boost::asio::awaitable<void> refresh_now();
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
  boost::asio::awaitable<void> pause_refresh(std::chrono::milliseconds d);
  boost::asio::awaitable<boost::system::result<std::vector<reply>>> send(
      std::shared_ptr<connection> conn, std::span<const std::string_view> cmds);
  /// Sends `cmds` (RESP texts) together to the node of `slot`, following redirects and
  /// retrying as client_options says; the replies of `cmds` in order.
  boost::asio::awaitable<boost::system::result<std::vector<reply>>> exec_unit(
      std::span<const std::string_view> cmds, int slot);
  /// Sends `cmd` to every primary; the first error reply, else the first reply.
  boost::asio::awaitable<boost::system::result<reply>> exec_all(std::string_view cmd);
  void note_retry(retry_reason why);
  void start_tracker(const std::shared_ptr<node>& n);
  void tracking_lost(std::string_view why);
  boost::asio::awaitable<void> sync_tracking(std::shared_ptr<node> n);
  /// Sends barriers to `n` while fetch rounds wait for one (cluster_tracking.cpp).
  boost::asio::awaitable<void> run_barriers(std::shared_ptr<node> n);
  boost::asio::awaitable<void> refresh_while_tracking(std::shared_ptr<cluster> self);
  bool node_tracked(const node& n) const noexcept;

  boost::asio::any_io_executor ex_;
  client_options opts_;
  bool running_ = false;
  bool map_loaded_ = false;
  std::unordered_map<std::string, std::shared_ptr<node>> nodes_;  // by "host:port"
  std::vector<std::shared_ptr<node>> owners_;                     // the primaries of the map
  std::vector<std::uint16_t> slots_;  // owner index + 1; 0: no owner known
  std::size_t next_any_ = 0;          // round robin for keyless commands
  bool refreshing_ = false, refresh_again_ = false;
  unsigned refresh_failures_ = 0;
  std::chrono::steady_clock::time_point last_refresh_{};
  boost::asio::steady_timer refresh_timer_;  // the refresh loop's pauses; cancelled by stop()
  std::vector<std::shared_ptr<waiter>> refresh_waiters_, ready_waiters_;
  std::minstd_rand rng_;
  client_stats stats_;
  std::function<void(std::span<const std::string_view>)> on_invalidate_;
  std::function<void()> on_tracking_reset_;
  bool tracking_ = false;
  std::uint64_t tracking_epoch_ = 0;
};

}  // namespace stopgate::redis::detail
