// Bandwidth callbacks carry no payload signature; the Application's callback credentials
// arrive as HTTP Basic auth (carriers.md 3.3).
#pragma once

#include "carriers/signature/webhook_request.hpp"

#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

struct bandwidth_credentials {
  std::string username;
  std::string password;
};

/// Verifies `Authorization: Basic base64(user:pass)` against the configured callback
/// credentials in constant time (digests of both sides are compared, so lengths do not leak
/// either). No timestamp: the caller dedupes on message.id + type. Thread-safe.
verify_result verify_bandwidth(const webhook_request& req, const bandwidth_credentials& creds);

/// The `Authorization` header value Bandwidth sends for these credentials.
std::string bandwidth_authorization(std::string_view username, std::string_view password);

}  // namespace stopgate::carriers::signature
