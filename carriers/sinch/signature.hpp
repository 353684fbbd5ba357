// Sinch callback HMAC (carriers.md 6.3).
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

/// Verifies `x-sinch-webhook-signature` = base64(HMAC-SHA256(secret, raw body + "." + nonce +
/// "." + timestamp)) with the `-nonce` and `-timestamp` headers. `-algorithm`, when present,
/// must be HmacSHA256 (absent means HmacSHA256, as Sinch's own examples omit it). The
/// timestamp must be within the window; nonce and timestamp are returned. Thread-safe.
verify_result verify_sinch(const webhook_request& req, std::string_view secret,
                           std::chrono::system_clock::time_point now,
                           std::chrono::seconds window = default_replay_window);

/// The `x-sinch-webhook-signature` value.
std::string sinch_sign(std::string_view secret, std::string_view body, std::string_view nonce,
                       std::int64_t timestamp);

}  // namespace stopgate::carriers::signature
