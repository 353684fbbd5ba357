// A carrier as one row: its wire format (the send request and its answer, the inbound and
// status webhooks) and its webhook signature check. Each carrier's row is defined in its own
// folder (carriers/NAME/dialect.cpp, next to its wire.cpp and signature.cpp); the relay, the
// webhook routes and verify_webhook look the row up by the configured type and never name a
// carrier. Adding a carrier: a folder with the three files, one line in dialect.cpp's table.
#pragma once

#include "carriers/signature/webhook_request.hpp"
#include "carriers/wire/types.hpp"
#include "config/settings.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::carriers {

/// What a webhook's signature check needs besides the request and the carrier's secrets.
struct webhook_check {
  std::chrono::system_clock::time_point now;
  bool loopback_peer = false;          // the sandbox takes unsigned webhooks from loopback only
  std::chrono::seconds window{300};    // replay window of timestamped schemes
};

/// What a carrier expects in a 200 answer to its inbound webhook.
struct webhook_ack {
  std::string_view content_type = "application/json";
  std::string_view body = R"({"ok":true})";
};

struct dialect {
  config::carrier_type type;
  /// The HTTP request for a message; nullopt when there is none (the sandbox appends to its
  /// outbox). Precondition: the settings' credentials match `type` (the loader guarantees it).
  std::optional<http_call> (*build_send)(const config::carrier_settings& s, const outbound_message& msg);
  /// The carrier's answer to that request; `now` resolves a Retry-After HTTP-date.
  send_outcome (*parse_send_response)(int status, const header_list& headers, std::string_view body,
                                      std::chrono::system_clock::time_point now);
  /// Every message of an inbound-message webhook, in order (ignored_event: none).
  boost::system::result<std::vector<inbound_message>> (*parse_inbound)(std::string_view content_type,
                                                                       std::string_view body,
                                                                       std::string_view query);
  /// Every update of a delivery-status webhook, in order (ignored_event: none).
  boost::system::result<std::vector<status_update>> (*parse_status)(std::string_view content_type,
                                                                    std::string_view body,
                                                                    std::string_view query);
  /// The webhook's signature, with the secrets of `c` (bad_key when they are missing).
  signature::verify_result (*verify_webhook)(const config::carrier_settings& c,
                                             const signature::webhook_request& req, const webhook_check& check);
  /// The 200 answer to an inbound webhook once it was applied (or ignored).
  webhook_ack inbound_ack{};
};

/// The row of `type`; every carrier_type has one (tests/carriers/dialect_test.cpp).
const dialect& dialect_of(config::carrier_type type) noexcept;

/// One message or update as a list of one, for the carriers that post one per request.
template <class T>
boost::system::result<std::vector<T>> as_list(boost::system::result<T> r) {
  if (!r) return r.error();
  std::vector<T> out;
  out.push_back(std::move(*r));
  return out;
}

// Adapters from a carrier's own wire functions to a row's shape, so that a row names them:
// `&always_send<build_send>`, `&one_inbound<parse_inbound>`, `&one_status<parse_status>`.
template <http_call (*Build)(const config::carrier_settings&, const outbound_message&)>
std::optional<http_call> always_send(const config::carrier_settings& s, const outbound_message& msg) {
  return Build(s, msg);
}
template <boost::system::result<inbound_message> (*Parse)(std::string_view, std::string_view, std::string_view)>
boost::system::result<std::vector<inbound_message>> one_inbound(std::string_view content_type, std::string_view body,
                                                                std::string_view query) {
  return as_list(Parse(content_type, body, query));
}
template <boost::system::result<status_update> (*Parse)(std::string_view, std::string_view, std::string_view)>
boost::system::result<std::vector<status_update>> one_status(std::string_view content_type, std::string_view body,
                                                             std::string_view query) {
  return as_list(Parse(content_type, body, query));
}

}  // namespace stopgate::carriers
