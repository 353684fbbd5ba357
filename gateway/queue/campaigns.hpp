// Campaign controls of the outbound queue (docs/QUEUE.md, "Campaigns"): a campaign's state
// (active, paused, cancelled), its outcome counters and the ids of its messages still queued,
// shared by every gateway through Redis.
//
//   {sg:camp:H}        hash  sender name state queued sent failed unknown cancelled expired
//   {sg:camp:H}:ids    set   ids of its messages still in the queue
//   {sg:camp:H}:r:MIN  string  messages sent in that minute (expires after 3 minutes)
//
// H is 16 hex digits of a hash of (sender, campaign name), so that any name makes a valid
// hash tag; every key of one campaign is in one slot.
#pragma once

#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::queue {

enum class campaign_state { active, paused, cancelled };
std::string_view to_string(campaign_state s) noexcept;

struct campaign_counts {
  campaign_state state = campaign_state::active;
  bool known = false;  // anything was ever queued or set for it
  std::int64_t queued = 0, sent = 0, failed = 0, unknown = 0, cancelled = 0, expired = 0;
  std::int64_t sent_last_minute = 0;
  std::vector<std::string> ids;  // its messages still in the queue
};

/// Stateless; every call takes the caller's client (used on its own executor).
class campaign_store {
 public:
  static std::string tag(std::string_view sender, std::string_view name);

  /// A message of the campaign entered the queue.
  boost::asio::awaitable<boost::system::error_code> async_queued(redis::client& c,
                                                                 std::string_view sender,
                                                                 std::string_view name,
                                                                 std::string_view id) const;
  /// A message left the queue with `outcome` (sent, failed, unknown, cancelled, expired).
  boost::asio::awaitable<boost::system::error_code> async_ended(redis::client& c,
                                                                std::string_view sender,
                                                                std::string_view name,
                                                                std::string_view id,
                                                                std::string_view outcome,
                                                                std::int64_t now_ms) const;
  boost::asio::awaitable<boost::system::result<campaign_state>> async_state(
      redis::client& c, std::string_view sender, std::string_view name) const;
  boost::asio::awaitable<boost::system::error_code> async_set_state(redis::client& c,
                                                                    std::string_view sender,
                                                                    std::string_view name,
                                                                    campaign_state s) const;
  boost::asio::awaitable<boost::system::result<campaign_counts>> async_counts(
      redis::client& c, std::string_view sender, std::string_view name,
      std::int64_t now_ms) const;
};

}  // namespace stopgate::gateway::queue
