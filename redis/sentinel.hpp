// Internal: finding the primary through Redis Sentinel for redis::client and
// redis::subscriber. Asks the Sentinels (SENTINEL get-master-addr-by-name), listens to their
// +switch-master announcements, and points the connections that follow it at the current
// primary. Not a public API.
#pragma once

#include "redis/connection.hpp"
#include "redis/options.hpp"
#include "redis/stats.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace stopgate::redis {
class subscriber;
}

namespace stopgate::redis::detail {

/// Executor-confined: every member runs on the executor it was built with.
class sentinel_watch : public std::enable_shared_from_this<sentinel_watch> {
 public:
  /// `opts.ep` is a sentinel endpoint.
  sentinel_watch(boost::asio::any_io_executor ex, client_options opts);
  ~sentinel_watch();
  sentinel_watch(const sentinel_watch&) = delete;
  sentinel_watch& operator=(const sentinel_watch&) = delete;

  /// Makes `conn` connect to the primary the Sentinels name and move with it. With
  /// `require_primary`, the connection checks ROLE and drops a node that is a replica.
  /// Call before start().
  void follow(const std::shared_ptr<connection>& conn, bool require_primary);
  void start();
  void stop();
  /// Asks the Sentinels again (a replica answered, a connection was lost, READONLY).
  void rediscover();
  /// A -READONLY reply came from the node `conn` is connected to.
  void note_readonly(connection& conn);
  const client_stats& stats() const noexcept { return stats_; }

 private:
  struct sentinel;
  void set_primary(std::string_view host, int port, bool announced);
  boost::asio::awaitable<void> discover_loop(std::shared_ptr<sentinel_watch> self);
  boost::asio::awaitable<bool> ask(sentinel& s);

  boost::asio::any_io_executor ex_;
  client_options opts_;  // the data nodes' options; ep: the Sentinels
  std::vector<std::unique_ptr<sentinel>> sentinels_;
  std::vector<std::weak_ptr<connection>> followers_;
  std::optional<endpoint> primary_;
  std::size_t preferred_ = 0;  // the Sentinel that answered last
  bool running_ = false, discovering_ = false, discover_again_ = false;
  unsigned failures_ = 0;
  boost::asio::steady_timer pause_;  // between rounds of questions; cancelled by stop()
  std::minstd_rand rng_;
  client_stats stats_;
};

}  // namespace stopgate::redis::detail
