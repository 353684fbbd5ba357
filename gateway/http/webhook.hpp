// The bridge from an HTTP route request to the carriers' signature and wire layers, shared by
// the inbound-message and delivery-status webhook routes.
#pragma once

#include "carriers/signature/webhook_request.hpp"
#include "config/settings.hpp"
#include "gateway/http/message.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace stopgate::gateway::http {

/// The URL the carrier signed: http.public_url + target when configured, else
/// "http://" + http.listen + target (right for a carrier calling the listener directly;
/// behind a proxy or TLS terminator http.public_url must be set).
std::string signed_url(const request& req);

/// The request as the signature verifiers see it: method, signed_url(), every header, the raw
/// body and its Content-Type. Copies (the result may outlive the request).
carriers::signature::webhook_request to_webhook_request(const request& req);

/// The `{carrier}` of "/v1/inbound/{carrier}" after `prefix` ("/v1/inbound/"): the rest of
/// the path; "" when it is empty or holds another '/'.
std::string_view carrier_from_path(std::string_view path, std::string_view prefix) noexcept;

/// The one answer to a webhook that is refused before it is read: an unknown carrier name
/// and a missing, bad or stale signature look alike (403, same body), so the configured
/// carrier names cannot be listed by probing. The reason goes to the log, not the caller.
response webhook_refused();

/// The front both webhook routes share (/v1/inbound/ and /v1/status/): the carrier configured
/// in `s` under the name after `prefix`, then its signature over the request (at `now`, within
/// s.http.replay_window_s). On success `carrier` is set and `request` is what was verified; on
/// refusal `carrier` is null, the answer is webhook_refused(), `label` names the carrier for
/// the counters ("(unknown)" for a name not configured) and `why` says why, for the log.
/// Parsing the body is the route's own step.
struct webhook_front {
  const config::carrier_settings* carrier = nullptr;
  carriers::signature::webhook_request request;
  std::string label;
  std::string why;
};
webhook_front verify_front(const request& req, const config::settings& s, std::string_view prefix,
                           std::chrono::system_clock::time_point now);

}  // namespace stopgate::gateway::http
