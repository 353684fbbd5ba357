// The generic HTTP carrier's row (`type = "http"`): the generic JSON wire format
// (carriers/generic/wire.hpp) and the stopgate HMAC signature (carriers/sandbox/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/generic/wire.hpp"
#include "carriers/sandbox/signature.hpp"

namespace stopgate::carriers::generic {
namespace {

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  const auto& secret = c.creds<config::http_credentials>().webhook_secret;
  if (secret.empty()) return signature::fail(signature::verify_errc::bad_key);
  return signature::verify_sandbox(req, secret.reveal(), check.now, check.window);
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::http,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify};

}  // namespace stopgate::carriers::generic
