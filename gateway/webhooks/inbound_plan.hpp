// The decision about one inbound message, without I/O: what it is (its keyword class), what
// it changes (an opt-out of a sender or of all, an opt-in, nothing), which evidence records it
// writes and which reply it asks for. service::apply (inbound_route.cpp) is the shell that
// claims the message id, appends the records, applies the effect and finishes; it decides
// nothing this plan does not say. docs/WEBHOOKS.md, "What each class does".
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"
#include "dnc/keywords/classifier.hpp"
#include "dnc/model/facts.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/webhooks/classifiers.hpp"

#include <optional>
#include <string>
#include <vector>

namespace stopgate::gateway::webhooks {

enum class inbound_effect : std::uint8_t { none, opt_out, opt_in };

/// The reply a message asks for (`kind` "" = none). Its id, times and evidence id are the
/// shell's: they exist only once the records are written.
struct planned_reply {
  std::string kind;  // "optout", "optin", "help"
  std::string body;
  bool marker = false;             // once per 24 hours (opt-out confirmations): marker_key
  bool only_if_unblocked = false;  // opt-in: only when no opt-out still blocks the number
};

struct inbound_plan {
  std::string cls;    // keyword class ("opt_out", "help", "other", ...): the counters' label
  std::string match;  // how it matched ("exact", "phrase", ...)
  /// The consumer, when their number reads without guessing a country (else nothing is keyed
  /// to it: no opt-out, no opt-in, no reply).
  std::optional<dnc::model::phone_number> from;
  std::string from_text;  // the consumer's number as read (E.164, or the carrier's text)
  std::string to;         // the number written to, as read (the sender's number)
  const config::sender_settings* sender = nullptr;  // the sender owning `to`; null = none
  inbound_effect effect = inbound_effect::none;
  std::string scope;   // opt-out: the sender's name, or "*" (STOPALL, or no sender owns `to`)
  std::string source;  // "sms:<carrier>"
  /// The evidence records, in order: the inbound record, then the effect's record (its
  /// inbound_evidence_id filled in by the log).
  std::vector<evidence::batch_record> records;
  planned_reply reply;
  bool forward = false;  // an `other` message to a sender with a forward_url
};

/// Plans `m`, received through `carrier` at `at`, under `s` (its classifiers in `k`). Pure.
inbound_plan plan_inbound(const config::settings& s, const config::carrier_settings& carrier,
                          const carriers::inbound_message& m, const classifier_set& k,
                          dnc::model::sys_time at);

}  // namespace stopgate::gateway::webhooks
