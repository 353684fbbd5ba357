// The keyword classifiers of one configuration: one per sender (its keyword settings) and
// one for messages to numbers no sender owns (the global [keywords]). Built once per
// settings object and shared by every request read under it.
#pragma once

#include "config/load.hpp"
#include "dnc/keywords/classifier.hpp"

#include <atomic>
#include <memory>
#include <string_view>
#include <vector>

namespace stopgate::gateway::webhooks {

/// The dnc classifier options for a config keyword table: its four lists, mode and
/// phrase_max_words, plus the default opt-out phrases (fcc2024). Pure.
dnc::keywords::keyword_options keyword_options_for(const config::keyword_settings& k);

/// Immutable after make(); thread-safe.
class classifier_set {
 public:
  /// Never fails: a sender whose lists cannot be prepared with the default phrases is
  /// prepared without them, and failing that with the built-in defaults (logged).
  static std::shared_ptr<const classifier_set> make(config::settings_ptr s);

  /// The classifier for `sender` (null: the global one).
  const dnc::keywords::keyword_classifier& for_sender(const config::sender_settings* sender) const;
  const config::settings* settings() const noexcept { return settings_.get(); }

 private:
  config::settings_ptr settings_;                 // kept alive so its address identifies it
  std::vector<dnc::keywords::keyword_classifier> senders_;  // parallel to settings_->senders
  std::vector<dnc::keywords::keyword_classifier> global_;   // exactly one
};

/// Caches the classifier_set of the newest settings object. Thread-safe.
class classifier_cache {
 public:
  /// The set for `s` (built on first use of a new settings object).
  std::shared_ptr<const classifier_set> get(const config::settings_ptr& s);

 private:
  std::atomic<std::shared_ptr<const classifier_set>> current_;
};

}  // namespace stopgate::gateway::webhooks
