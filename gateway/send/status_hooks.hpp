// The signed status webhook of a sender (docs/QUEUE.md, "Status webhook"): the status events
// of the sender's messages (gateway/send/events.hpp) are also appended to a per-sender Redis
// stream, and every gateway POSTs them to the sender's `status_url`, signed with its
// `status_secret`, at least once:
//
//   {sg:hook:SENDER}  stream (kept 7 days), consumer group "hooks", one consumer per gateway
//
// A delivery is acknowledged (XACK) only after a 2xx answer; an event not acknowledged within
// retry_after (a failed POST, or a gateway that died holding it) is claimed again (XAUTOCLAIM)
// by whichever gateway looks next, so it survives gateway restarts. The receiver dedupes by
// X-Stopgate-Event-Id.
//
//   X-Stopgate-Signature: t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(status_secret, "UNIX_SECONDS." + body))
#pragma once

#include "carriers/http/client.hpp"
#include "config/load.hpp"
#include "config/settings.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace stopgate::gateway::send {

/// The hook stream of a sender.
std::string hook_key(std::string_view sender);

/// The X-Stopgate-Signature value of `body` at `unix_seconds`.
std::string sign_status_body(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body);

struct status_hook_options {
  std::chrono::milliseconds poll{200};
  std::chrono::milliseconds retry_after{10000};  // an unacknowledged event is sent again after this
  std::chrono::milliseconds timeout{5000};       // one POST
  std::size_t batch = 50;                        // events read per sender per look
  bool verify_tls = true;
  std::string consumer = "gw";  // this gateway's consumer name (server.instance)
};

struct status_hook_counters {
  std::atomic<std::uint64_t> delivered{0}, failed{0};
};

/// One delivery loop on one event loop (the app runs it on worker 0).
class status_hooks {
 public:
  status_hooks(boost::asio::io_context& io, redis::client& c,
               std::function<config::settings_ptr()> settings, status_hook_options o);
  void start();
  void stop();  // on the loop's thread
  const status_hook_counters& counters() const noexcept { return counters_; }

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> deliver(std::string sender, std::string url, std::string secret,
                                       std::string id, std::string body);

  boost::asio::io_context& io_;
  redis::client& c_;
  std::function<config::settings_ptr()> settings_;
  status_hook_options opts_;
  std::unique_ptr<carriers::http::client> http_;
  boost::asio::steady_timer timer_;
  std::set<std::string> groups_;  // senders whose group exists
  std::set<std::string> in_flight_;  // event ids being POSTed
  bool stopping_ = false;
  status_hook_counters counters_;
};

}  // namespace stopgate::gateway::send
