// Signed carrier webhooks as each carrier really sends them: an inbound message (a consumer's
// reply, e.g. "STOP") and a delivery-status callback, for every carrier type. They are the
// inverse of carriers/<name>/wire parse_inbound / parse_status, signed with the signers in
// carriers/signature/. Used by the webhook tests and the benchmarks.
//
//   auto w = fake_carrier::inbound_webhook(carrier_settings, "http://127.0.0.1:7601",
//                                          {.carrier_message_id = "SM1", .from = "+14155552671",
//                                           .to = "+14155552000", .body = "STOP"}, now);
//   // POST w.path with w.headers, Content-Type w.content_type, body w.body
#pragma once

#include "config/settings.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::fake_carrier {

/// One HTTP request to send to the gateway. `path` is the request target (path and query);
/// `headers` are everything but Content-Type (signature and auth headers included).
struct webhook {
  std::string method = "POST";
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
};

/// An inbound SMS. Numbers in E.164; carriers that send bare digits get them without '+'.
struct inbound_spec {
  std::string carrier_message_id;
  std::string from;  // the consumer
  std::string to;    // our number
  std::string body;
};

/// A delivery-status callback. `status` is the carrier's own word (Twilio "delivered",
/// Telnyx "delivery_failed", Bandwidth "message-failed", Vonage "rejected", Plivo
/// "undelivered", Sinch "Delivered", generic "failed"); `error_code` is its code or "".
struct status_spec {
  std::string carrier_message_id;
  std::string status;
  std::string error_code;
  std::string to;    // the recipient of our message
  std::string from;  // our number
};

/// Secrets the carrier settings do not hold.
struct signing {
  /// Telnyx: the 32-byte Ed25519 private seed whose public key is in the settings.
  std::string telnyx_seed;
  /// Vonage: sign with a Bearer JWT (signature secret, payload_hash) instead of `sig`.
  bool vonage_jwt = false;
};

/// The inbound-message webhook for carrier `c` to `base_url` + "/v1/inbound/" + c.name,
/// where `base_url` is what the gateway rebuilds as the signed URL (http.public_url, or
/// "http://" + http.listen). Signed at `now`. A carrier without a configured secret (sandbox,
/// http) is sent unsigned. Pure; thread-safe.
webhook inbound_webhook(const config::carrier_settings& c, std::string_view base_url,
                        const inbound_spec& m, std::chrono::system_clock::time_point now,
                        const signing& keys = {});

/// The delivery-status webhook for carrier `c` to `base_url` + "/v1/status/" + c.name.
webhook status_webhook(const config::carrier_settings& c, std::string_view base_url,
                       const status_spec& st, std::chrono::system_clock::time_point now,
                       const signing& keys = {});

/// Several inbound messages in one callback, as Bandwidth sends them (a JSON array of
/// events). Bandwidth only; throws std::invalid_argument for other types or no message.
webhook inbound_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                              const std::vector<inbound_spec>& ms,
                              std::chrono::system_clock::time_point now, const signing& keys = {});

/// Several delivery-status updates of one callback: Bandwidth (a JSON array of events) or
/// Sinch (a batch `delivery_report_sms`, one status per update; the first update's id is the
/// batch id). Throws std::invalid_argument for other types or no update.
webhook status_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                             const std::vector<status_spec>& sts,
                             std::chrono::system_clock::time_point now, const signing& keys = {});

/// The raw HTTP/1.1 request text of `w` for `host` (Content-Length set, Connection: close).
std::string to_http(const webhook& w, std::string_view host = "127.0.0.1");

}  // namespace stopgate::fake_carrier
