// The sandbox's row: no HTTP (messages go to its outbox, carriers/relay/outbox.hpp), the
// generic answer format, its own webhook format (carriers/sandbox/wire.hpp) and the stopgate
// HMAC signature, which may be left off for loopback peers (`webhook_secret = ""`).
#include "carriers/dialect.hpp"
#include "carriers/generic/wire.hpp"
#include "carriers/sandbox/signature.hpp"
#include "carriers/sandbox/wire.hpp"

namespace stopgate::carriers::sandbox {
namespace {

std::optional<http_call> send(const config::carrier_settings&, const outbound_message&) {
  return std::nullopt;
}

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  const auto& secret = c.creds<config::sandbox_credentials>().webhook_secret;
  if (secret.empty())
    return check.loopback_peer ? signature::verify_result{} : signature::fail(signature::verify_errc::bad_key);
  return signature::verify_sandbox(req, secret.reveal(), check.now, check.window);
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::sandbox,
    &send,
    &generic::parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify};

}  // namespace stopgate::carriers::sandbox
