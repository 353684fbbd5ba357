// Vonage webhook signatures: SMS API signed parameters (`sig`, carriers.md 4.3) and the
// Messages API signed JWT (`Authorization: Bearer`, carriers.md 4.4).
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

/// The signing method chosen in the Vonage dashboard.
enum class vonage_sig_method { md5hash, md5, sha1, sha256, sha512 };

struct vonage_sms_secrets {
  std::string signature_secret;
  vonage_sig_method method = vonage_sig_method::md5hash;
};

/// SMS API: all params except `sig`, sorted, as "&key=value" with '&' and '=' inside keys and
/// values replaced by '_'. md5hash = hex(MD5(S + secret)); the others hex(HMAC(secret, S)).
/// Compared case-insensitively. `timestamp` must be within the window. Params come from the
/// query (GET), the urlencoded body, or the top-level members of a JSON body. The nonce and
/// timestamp are returned for the caller's dedupe. Thread-safe.
verify_result verify_vonage_sms(const webhook_request& req, const vonage_sms_secrets& secrets,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds window = default_replay_window);

/// Messages API: `Authorization: Bearer <JWT>` signed HS256 with the signature secret. Any
/// other `alg` (including "none") is refused. `iat` is required and must be within the
/// window both ways; `exp`, when present, must not have passed; `payload_hash`, when present,
/// must be the hex SHA-256 of the raw body. Returns iat as timestamp and jti as nonce.
verify_result verify_vonage_jwt(const webhook_request& req, std::string_view signature_secret,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds window = default_replay_window);

/// The canonical string S of the SMS API scheme (params named "sig" are left out).
std::string vonage_signed_string(param_list params);
/// The `sig` value (lower-case hex) for params under secret and method.
std::string vonage_sign(const param_list& params, std::string_view secret,
                        vonage_sig_method method);

/// A compact JWS with header {"alg":"HS256","typ":"JWT"}: base64url(header).base64url(claims)
/// .base64url(HMAC-SHA256). `claims_json` is used verbatim.
std::string jwt_hs256_encode(std::string_view secret, std::string_view header_json,
                             std::string_view claims_json);
/// A Vonage-style signed-webhook JWT for `body` issued at `iat` (with payload_hash and jti).
std::string vonage_jwt_sign(std::string_view signature_secret, std::int64_t iat,
                            std::string_view body, std::string_view jti = "");

}  // namespace stopgate::carriers::signature
