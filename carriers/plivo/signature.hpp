// Plivo webhook signatures (carriers.md 5.3): V2 for messaging callbacks, V3 for voice-style
// callbacks. Both are base64 HMAC-SHA256 with the (sub)account Auth Token, or with the main
// account token under the `-Ma-` header names.
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

struct plivo_secrets {
  std::string auth_token;          // checks X-Plivo-Signature-V2 / -V3
  std::string main_account_token;  // optional: checks X-Plivo-Signature-Ma-V2 / -Ma-V3
};

/// V2: sig = base64(HMAC-SHA256(token, url-without-query + nonce)), headers
/// X-Plivo-Signature-V2 / -Ma-V2 and X-Plivo-Signature-V2-Nonce. Any configured token whose
/// header matches passes. The nonce is returned; Plivo sends no timestamp, so replay
/// protection is the caller's dedupe on the nonce / MessageUUID. Thread-safe.
verify_result verify_plivo_v2(const webhook_request& req, const plivo_secrets& secrets);

/// V3: sig = base64(HMAC-SHA256(token, plivo_v3_signed_string(...) + "." + nonce)), headers
/// X-Plivo-Signature-V3 / -Ma-V3 (each may list several comma-separated signatures; any may
/// match) and X-Plivo-Signature-V3-Nonce. POST params come from a urlencoded body, GET
/// params from the query string. Thread-safe.
verify_result verify_plivo_v3(const webhook_request& req, const plivo_secrets& secrets);

/// V3 when any V3 header is present, otherwise V2.
verify_result verify_plivo(const webhook_request& req, const plivo_secrets& secrets);

/// The V3 string before ".nonce": scheme://host[:port]/path, then for GET "?" + the query
/// merged with params as sorted "k=v" joined by "&"; for POST "?" + sorted query "k=v"
/// joined by "&", "." when both parts are non-empty, then sorted params as "k"+"v".
std::string plivo_v3_signed_string(std::string_view method, std::string_view url,
                                   const param_list& params);

/// X-Plivo-Signature-V2 for a callback to `url` with `nonce`.
std::string plivo_v2_sign(std::string_view auth_token, std::string_view url,
                          std::string_view nonce);
/// X-Plivo-Signature-V3 for a callback (`params` are the POST form params; for GET they are
/// merged with the url's query).
std::string plivo_v3_sign(std::string_view auth_token, std::string_view method,
                          std::string_view url, std::string_view nonce, const param_list& params);

}  // namespace stopgate::carriers::signature
