// What the store knows about one number at check time: its opt-outs, consents and recent
// committed contacts. Produced by the contact store (dnc/contact_store.hpp), consumed by the
// policy engine (dnc/policy.hpp). Plain values, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::dnc::model {

using sys_time = std::chrono::sys_time<std::chrono::microseconds>;

enum class consent_kind : std::uint8_t { express_written, express, ebr_purchase, ebr_inquiry };

/// An opt-out of one sender, or of every sender when `sender` is "*" (STOPALL, an internal
/// DNC request).
struct optout_fact {
  std::string sender;       // sender name, or "*"
  sys_time at{};            // when it was received
  std::string source;       // "sms:STOP", "api", "carrier:twilio:21610", ...
  std::string evidence_id;  // the evidence record that proves it
};

struct consent_fact {
  std::string id;  // consent_id
  std::string sender;
  consent_kind kind = consent_kind::express_written;
  sys_time captured_at{};
  std::optional<sys_time> expires_at;
  std::string evidence_id;
};

struct number_facts {
  /// False when the store did not answer in time: the engine applies the purpose's
  /// failure mode (store_unavailable).
  bool available = true;
  std::vector<optout_fact> optouts;
  std::vector<consent_fact> consents;
  /// Times of committed contacts for (number, request campaign) inside the longest cap
  /// window, oldest first. Empty when no cap applies or nothing was committed.
  std::vector<sys_time> recent_contacts;
};

}  // namespace stopgate::dnc::model
