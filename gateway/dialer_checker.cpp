#include "gateway/dialer_checker.hpp"

#include "gateway/rfc3339.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace stopgate::gateway {

namespace json = boost::json;
using dialer::decision;
using dialer::voice_answer;

dialer_checker::dialer_checker(std::shared_ptr<api::dispatcher> ops,
                               std::function<std::shared_ptr<const config::settings>()> settings)
    : ops_(std::move(ops)), settings_(std::move(settings)) {}

voice_answer voice_answer_from(const json::object& r) {
  voice_answer a;
  const json::value* d = r.if_contains("decision");
  const std::string_view outcome = d && d->is_string() ? std::string_view(d->get_string()) : "deny";
  a.outcome = outcome == "allow"   ? decision::allow
              : outcome == "defer" ? decision::defer
                                   : decision::deny;
  if (const json::value* rs = r.if_contains("reasons"); rs && rs->is_array())
    for (const auto& x : rs->get_array())
      if (x.is_string()) a.reasons.emplace_back(x.get_string());
  if (const json::value* t = r.if_contains("retry_at"); t && t->is_string()) {
    a.retry_at_text = std::string(t->get_string());
    if (auto at = parse_rfc3339(a.retry_at_text)) a.retry_at = *at;
  }
  if (const json::value* to = r.if_contains("to"); to && to->is_string())
    a.to = std::string(to->get_string());
  if (const json::value* e = r.if_contains("evidence_id"); e && e->is_string())
    a.evidence_id = std::string(e->get_string());
  // Redis did not answer: the policy denied for want of facts, not on them.
  a.fail_closed = a.outcome == decision::deny && std::find(a.reasons.begin(), a.reasons.end(),
                                                           "store_unavailable") != a.reasons.end();
  return a;
}

boost::asio::awaitable<voice_answer> dialer_checker::async_check(const dialer::voice_check& q) {
  auto settings = settings_();
  json::object req;
  req["op"] = "check";
  req["to"] = q.to;
  if (!q.sender.empty()) req["sender"] = q.sender;
  req["channel"] = "voice";
  req["purpose"] = q.call_purpose == config::purpose::informational ? "informational" : "marketing";
  req["tech"] = config::to_string(q.tech);
  if (!q.campaign.empty()) req["campaign"] = q.campaign;
  // The decision record names the interface and the call ("sip:CALL-ID"), within 256 bytes.
  std::string ref = std::string(dialer::to_string(q.source)) + ":" + q.ref;
  if (ref.size() > 256) ref.resize(256);
  req["ref"] = ref;
  req["commit"] = true;
  // The dialer servers authenticate their peers by configuration (listen address, sender
  // table); their checks need no API key.
  api::request_context ctx{{}, 0x0F, true, settings.get(), {}, q.worker};
  api::op_result r = co_await ops_->async_handle("check", req, ctx);
  if (!r) {
    spdlog::warn("dialer: {} check {} failed closed: {}", dialer::to_string(q.source), q.ref,
                 r.error().message);
    co_return voice_answer::failed(std::string(api::to_string(r.error().code)));
  }
  const json::value* result = r->if_contains("result");
  if (!result || !result->is_object()) co_return voice_answer::failed("internal");
  co_return voice_answer_from(result->get_object());
}

std::vector<http::metric_family> dialer_metric_families(dialer::servers& servers) {
  using http::metric_family;
  using http::metric_type;
  const auto sip = servers.sip().stats();
  metric_family responses{"stopgate_dialer_sip_responses_total",
                          "SIP gate final answers to INVITEs by outcome.",
                          metric_type::counter,
                          {}};
  const std::pair<const char*, std::uint64_t> outcomes[] = {
      {"redirected", sip.redirected}, {"denied", sip.denied},
      {"deferred", sip.deferred},     {"refused", sip.refused},
      {"cancelled", sip.cancelled},   {"check_timeout", sip.check_timeouts},
      {"overloaded", sip.overloaded}, {"bad_request", sip.bad_requests}};
  for (const auto& [name, n] : outcomes)
    responses.samples.push_back({"", {{"outcome", name}}, double(n)});
  std::vector<metric_family> out;
  out.push_back(std::move(responses));
  out.push_back({"stopgate_dialer_sip_retransmissions_total",
                 "SIP requests answered from their transaction (never checked twice).",
                 metric_type::counter,
                 {{"", {}, double(sip.retransmissions)}}});
  out.push_back({"stopgate_dialer_sip_dropped_total",
                 "SIP messages dropped: malformed and unanswerable, stray responses and ACKs.",
                 metric_type::counter,
                 {{"", {}, double(sip.dropped)}}});
  out.push_back({"stopgate_dialer_sip_ack_timeouts_total",
                 "SIP final responses never acknowledged (Timer H).",
                 metric_type::counter,
                 {{"", {}, double(sip.ack_timeouts)}}});
  const auto agi = servers.fastagi().stats();
  metric_family sessions{"stopgate_dialer_fastagi_sessions_total",
                         "FastAGI sessions by result.",
                         metric_type::counter,
                         {}};
  const std::pair<const char*, std::uint64_t> results[] = {{"checked", agi.checks},
                                                           {"malformed", agi.malformed},
                                                           {"timeout", agi.timeouts},
                                                           {"refused", agi.refused}};
  for (const auto& [name, n] : results)
    sessions.samples.push_back({"", {{"result", name}}, double(n)});
  out.push_back(std::move(sessions));
  out.push_back({"stopgate_dialer_fastagi_connections_open",
                 "Open FastAGI connections.",
                 metric_type::gauge,
                 {{"", {}, double(agi.open)}}});
  return out;
}

}  // namespace stopgate::gateway
