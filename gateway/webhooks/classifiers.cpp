#include "gateway/webhooks/classifiers.hpp"

#include <spdlog/spdlog.h>

namespace stopgate::gateway::webhooks {
namespace {

dnc::keywords::keyword_classifier prepare(const config::keyword_settings& k, std::string_view who) {
  auto o = keyword_options_for(k);
  auto c = dnc::keywords::keyword_classifier::make(o);
  if (c) return std::move(*c);
  // A configured keyword equal to a default phrase ("WRONG NUMBER" as help) conflicts:
  // keep the configured lists and drop the phrases.
  spdlog::warn("keywords of {}: {}; preparing them without the default opt-out phrases", who,
               c.error().message());
  o.opt_out_phrases.clear();
  if (auto c2 = dnc::keywords::keyword_classifier::make(o)) return std::move(*c2);
  spdlog::error("keywords of {}: cannot be prepared; using the built-in defaults", who);
  return *dnc::keywords::keyword_classifier::make(dnc::keywords::keyword_options::defaults());
}

}  // namespace

dnc::keywords::keyword_options keyword_options_for(const config::keyword_settings& k) {
  dnc::keywords::keyword_options o;
  o.mode = k.mode == config::keyword_mode::strict ? dnc::keywords::keyword_mode::strict
                                                  : dnc::keywords::keyword_mode::fcc2024;
  o.phrase_max_words = k.phrase_max_words;
  o.opt_out_all = k.opt_out_all;
  o.opt_out = k.opt_out;
  o.opt_in = k.opt_in;
  o.help = k.help;
  o.opt_out_phrases = dnc::keywords::keyword_options::defaults().opt_out_phrases;
  return o;
}

std::shared_ptr<const classifier_set> classifier_set::make(config::settings_ptr s) {
  auto set = std::shared_ptr<classifier_set>(new classifier_set());
  set->senders_.reserve(s->senders.size());
  for (const auto& snd : s->senders)
    set->senders_.push_back(prepare(snd.keywords, "sender " + snd.name));
  set->global_.push_back(prepare(s->keywords, "[keywords]"));
  set->settings_ = std::move(s);
  return set;
}

const dnc::keywords::keyword_classifier& classifier_set::for_sender(
    const config::sender_settings* sender) const {
  if (sender && !settings_->senders.empty()) {
    const auto i = std::size_t(sender - settings_->senders.data());
    if (i < senders_.size()) return senders_[i];
  }
  return global_.front();
}

std::shared_ptr<const classifier_set> classifier_cache::get(const config::settings_ptr& s) {
  auto cur = current_.load();
  if (cur && cur->settings() == s.get()) return cur;
  auto made = classifier_set::make(s);
  current_.store(made);
  return made;
}

}  // namespace stopgate::gateway::webhooks
