// The sandbox carrier's own webhook signature (docs/SIGNATURES.md, "Sandbox").
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

/// Verifies `X-Stopgate-Signature: sha256=<hex HMAC-SHA256(secret, ts + "." + raw body)>`
/// with `X-Stopgate-Timestamp: <unix seconds>` within the window. Hex of either case is
/// accepted. The timestamp is returned. Thread-safe.
verify_result verify_sandbox(const webhook_request& req, std::string_view secret,
                             std::chrono::system_clock::time_point now,
                             std::chrono::seconds window = default_replay_window);

/// The `X-Stopgate-Signature` value ("sha256=" + lower-case hex) for a body sent at timestamp.
std::string sandbox_sign(std::string_view secret, std::int64_t timestamp, std::string_view body);

}  // namespace stopgate::carriers::signature
