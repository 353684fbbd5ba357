// A pub/sub connection: SUBSCRIBE to channels, messages delivered to a callback, and a
// resubscribe + on_subscribed after every reconnect.
#pragma once

#include "redis/options.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace stopgate::redis {

namespace detail {
class connection;
class sentinel_watch;
struct subscription_state;
}  // namespace detail

/// A pub/sub connection: (re)subscribes after every reconnect and then calls on_subscribed
/// so the owner can resynchronise anything it may have missed while disconnected.
/// sentinel://: connects to the primary the Sentinels name and follows failovers.
/// cluster://: connects to a seed node, the next one after each failure (a cluster delivers
/// every PUBLISH to every node).
/// Not thread-safe: use it on its executor only; destroy it before its io_context.
class subscriber {
 public:
  subscriber(boost::asio::any_io_executor ex, client_options opts);
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  /// Adds a channel (duplicates ignored); before or after start().
  void subscribe(std::string channel);
  /// Called for every message, inline on the executor while the reply is being read (views
  /// valid during the call only). It may call subscribe() and stop(); it must not destroy
  /// the subscriber.
  void on_message(std::function<void(std::string_view channel, std::string_view message)> f);
  /// Posted to the executor (never inline) each time every channel asked for is confirmed by
  /// the server: after the first connect, after every reconnect, and after a later
  /// subscribe() is confirmed.
  void on_subscribed(std::function<void()> f);
  void start();
  void stop();
  bool connected() const noexcept;

 private:
  std::shared_ptr<detail::connection> conn_;
  std::shared_ptr<detail::subscription_state> st_;
  std::shared_ptr<detail::sentinel_watch> sentinel_;  // sentinel:// only
};

}  // namespace stopgate::redis
