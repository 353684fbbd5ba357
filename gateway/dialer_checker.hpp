// The gateway's side of the dialer seam: a voice check is a committed `check` op with
// channel voice, answered by the op dispatcher like any socket-API request, so that its
// decision record carries the call's reference (`ref`: "sip:CALL-ID", "fastagi:UNIQUEID",
// "http:REF"). Every failure is a fail-closed deny. Also: the dialer servers' counters for
// /metrics.
#pragma once

#include "gateway/api/dispatcher.hpp"
#include "gateway/dialer/servers.hpp"
#include "gateway/dialer/voice_checker.hpp"
#include "gateway/http/prometheus.hpp"

#include <functional>
#include <memory>

namespace stopgate::gateway {

class dialer_checker final : public dialer::voice_checker {
 public:
  /// `settings` returns the configuration in force (called once per check).
  dialer_checker(std::shared_ptr<api::dispatcher> ops,
                 std::function<std::shared_ptr<const config::settings>()> settings);

  boost::asio::awaitable<dialer::voice_answer> async_check(const dialer::voice_check& q) override;

 private:
  std::shared_ptr<api::dispatcher> ops_;
  std::function<std::shared_ptr<const config::settings>()> settings_;
};

/// The dialer servers' counters as /metrics families: stopgate_dialer_sip_responses_total by
/// outcome, stopgate_dialer_sip_retransmissions_total, stopgate_dialer_sip_dropped_total,
/// stopgate_dialer_fastagi_sessions_total by result, stopgate_dialer_fastagi_connections_open.
std::vector<http::metric_family> dialer_metric_families(dialer::servers& servers);

/// The answer of a `check` op for one number (its "result" object) as a voice answer.
dialer::voice_answer voice_answer_from(const boost::json::object& result);

}  // namespace stopgate::gateway
