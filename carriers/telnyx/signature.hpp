// Telnyx Ed25519 webhook signatures (carriers.md 2.3).
#pragma once

#include "carriers/signature/crypto.hpp"
#include "carriers/signature/webhook_request.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

/// Verifies `telnyx-signature-ed25519` (base64 of 64 bytes) over
/// `telnyx-timestamp + "|" + raw body` with the account public key, then requires
/// |now - timestamp| <= window. The timestamp is returned for logging; the caller dedupes on
/// the event id (`data.id`). Thread-safe.
verify_result verify_telnyx(const webhook_request& req, const ed25519_public_key& public_key,
                            std::chrono::system_clock::time_point now,
                            std::chrono::seconds window = default_replay_window);

/// The `telnyx-signature-ed25519` header value for a body sent at `timestamp`, signed with a
/// 32-byte private seed; nullopt if the seed is not 32 bytes.
std::optional<std::string> telnyx_sign(std::string_view private_seed, std::int64_t timestamp,
                                       std::string_view body);

}  // namespace stopgate::carriers::signature
