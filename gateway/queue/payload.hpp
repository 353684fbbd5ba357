// What a queued message carries in the queue (gateway/queue/store.hpp, `{T}:msg`): everything
// the scheduler needs to check it again and relay it, as one JSON object.
#pragma once

#include "config/settings.hpp"
#include "dnc/model/facts.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::queue {

struct queued_payload {
  std::string to;  // E.164
  std::string sender;
  std::string from;
  std::string body;
  config::purpose purpose = config::purpose::marketing;
  std::string campaign;
  std::vector<std::string> route;
  std::string idempotency_key;
  std::string api_key;
  dnc::model::sys_time queued_at{};
  std::optional<dnc::model::sys_time> send_at, expires_at;
  std::string queued_evidence_id;  // the `queued` record
};

std::string encode(const queued_payload& p);
/// nullopt when `json` is not a payload encode() wrote.
std::optional<queued_payload> decode(std::string_view json);

}  // namespace stopgate::gateway::queue
