#include "gateway/webhooks/counters.hpp"

namespace stopgate::gateway::webhooks {

void counters::inbound(std::string_view carrier, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++inbound_[key(carrier, outcome)];
}

void counters::signature_failure(std::string_view carrier) {
  std::lock_guard lock(mu_);
  ++signature_[std::string(carrier)];
}

void counters::reply(std::string_view kind, std::string_view result) {
  std::lock_guard lock(mu_);
  ++replies_[key(kind, result)];
}

std::uint64_t counters::inbound_count(std::string_view carrier, std::string_view outcome) const {
  std::lock_guard lock(mu_);
  auto it = inbound_.find(key(carrier, outcome));
  return it == inbound_.end() ? 0 : it->second;
}

std::uint64_t counters::reply_count(std::string_view kind, std::string_view result) const {
  std::lock_guard lock(mu_);
  auto it = replies_.find(key(kind, result));
  return it == replies_.end() ? 0 : it->second;
}

std::uint64_t counters::signature_count(std::string_view carrier) const {
  std::lock_guard lock(mu_);
  auto it = signature_.find(std::string(carrier));
  return it == signature_.end() ? 0 : it->second;
}

std::vector<http::metric_family> counters::families() const {
  using http::metric_family;
  using http::metric_type;
  std::vector<metric_family> out;
  metric_family in{"stopgate_inbound_webhooks_total",
                   "Inbound-message webhooks answered, by carrier and outcome (keyword class or "
                   "why not applied).",
                   metric_type::counter,
                   {}};
  metric_family sig{
      "stopgate_inbound_signature_failures_total",
      "Inbound webhooks refused with 403 (bad, missing or stale signature), by carrier.",
      metric_type::counter,
      {}};
  metric_family rep{
      "stopgate_inbound_replies_total",
      "Replies to inbound messages (opt-out confirmations, HELP, START) by kind and result.",
      metric_type::counter,
      {}};
  {
    std::lock_guard lock(mu_);
    for (auto& [k, v] : inbound_)
      in.samples.push_back({"", {{"carrier", k.first}, {"class", k.second}}, double(v)});
    for (auto& [k, v] : signature_) sig.samples.push_back({"", {{"carrier", k}}, double(v)});
    for (auto& [k, v] : replies_)
      rep.samples.push_back({"", {{"kind", k.first}, {"result", k.second}}, double(v)});
  }
  out.push_back(std::move(in));
  out.push_back(std::move(sig));
  out.push_back(std::move(rep));
  out.push_back(metric_family{"stopgate_inbound_forwards_total",
                              "Forwards of `other` messages to a sender's forward_url.",
                              metric_type::counter,
                              {{"", {{"result", "ok"}}, double(forwards_ok_.load())},
                               {"", {{"result", "failed"}}, double(forwards_failed_.load())}}});
  out.push_back(
      metric_family{"stopgate_inbound_reply_queue_depth",
                    "Replies waiting in the shared Redis reply queue (sampled by the drainers).",
                    metric_type::gauge,
                    {{"", {}, double(depth_.load())}}});
  return out;
}

}  // namespace stopgate::gateway::webhooks
