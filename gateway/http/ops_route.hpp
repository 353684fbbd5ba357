// POST /v1/ops: one socket-API request as the JSON body (SPEC section 4).
//
// Order: authenticate (Authorization: Bearer KEY, SHA-256 and constant-time compare as the
// socket API does; with no keys configured, loopback peers only), decode the body, answer
// `ping` and `auth` in place, look the op up and check its role, then dispatch. The body is
// the socket API's response object; the HTTP status follows the error code (status_for).
#pragma once

#include "gateway/api/auth.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/http/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string_view>

namespace stopgate::gateway::http {

/// Who is calling /v1/ops.
struct ops_identity {
  std::string_view key_name;  // "" when no keys are configured
  std::uint8_t roles = 0;
};

/// Checks an Authorization header value (may be "") for a peer. Errors: unauthenticated
/// (missing, not Bearer, unknown key) or forbidden (no keys configured and not loopback).
/// Pure; thread-safe. key_name points into `keys`' settings.
boost::system::result<ops_identity, api::op_error> authorize_ops(std::string_view authorization,
                                                                 bool loopback,
                                                                 const api::key_table& keys);

/// The HTTP status for a socket-API error code: 400 bad_json, bad_request, invalid_number,
/// unknown_op, batch_too_large; 401 unauthenticated; 403 forbidden; 413 line_too_long;
/// 503 overloaded, store_unavailable; 500 internal.
unsigned status_for(api::api_errc code) noexcept;

/// Handles one /v1/ops request. `keys` must be built from *req.settings. Runs on the
/// caller's executor; suspends only inside the dispatcher. Never throws for a bad request;
/// a dispatcher exception becomes 500 internal.
boost::asio::awaitable<response> async_handle_ops(const request& req, const api::key_table& keys,
                                                  api::dispatcher& dispatch);

}  // namespace stopgate::gateway::http
