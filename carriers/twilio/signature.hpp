// Twilio `X-Twilio-Signature` (carriers.md 1.3): HMAC-SHA1 with the Auth Token, or
// HMAC-SHA256 with a Webhook SharedKey named by `X-Twilio-Webhooks-Signature-Settings`.
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::carriers::signature {

struct twilio_secrets {
  std::string auth_token;  // empty: only SharedKey-signed requests can pass
  /// Webhook SharedKeys by key id (the `key=` of the settings header).
  std::vector<std::pair<std::string, std::string>> shared_keys;
};

/// Verifies a Twilio webhook. Form bodies: the URL plus the sorted, de-duplicated params are
/// signed. Other bodies: the URL must carry `bodySHA256` (hex SHA-256 of the raw body) and
/// only the URL is signed. The URL as given, without its port, and with the scheme's default
/// port are all accepted, each also with the query's `'` spelled as %27 or %27 as `'` (Twilio
/// signs the URL as its own normaliser writes it). No timestamp: the caller dedupes on
/// MessageSid. Thread-safe.
verify_result verify_twilio(const webhook_request& req, const twilio_secrets& secrets);

/// The string Twilio signs: url + name+value of the params sorted by name then value, with
/// identical pairs dropped. Exposed for tests and the fake carrier.
std::string twilio_signed_string(std::string_view url, param_list params);

/// `X-Twilio-Signature` value with HMAC-SHA1 (Auth Token). For JSON bodies pass no params
/// and a url that already carries `bodySHA256=` + twilio_body_sha256(body).
std::string twilio_sign(std::string_view auth_token, std::string_view url,
                        const param_list& params);
/// `X-Twilio-Signature` value for the SharedKey variant (HMAC-SHA256).
std::string twilio_sign_shared_key(std::string_view shared_key, std::string_view url,
                                   const param_list& params);
/// Lower-case hex SHA-256 of a raw body, for the `bodySHA256` query parameter.
std::string twilio_body_sha256(std::string_view body);

}  // namespace stopgate::carriers::signature
