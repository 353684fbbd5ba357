// Plivo's row: its wire format (carriers/plivo/wire.hpp) and signature scheme
// (carriers/plivo/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/plivo/signature.hpp"
#include "carriers/plivo/wire.hpp"

namespace stopgate::carriers::plivo {
namespace {

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  (void)check;  // Plivo's nonce is not a timestamp
  const auto& k = c.creds<config::plivo_credentials>();
  if (k.auth_token.empty()) return signature::fail(signature::verify_errc::bad_key);
  return signature::verify_plivo(req, signature::plivo_secrets{k.auth_token.reveal(), {}});
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::plivo,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify,
    // Plivo XML with no reply.
    webhook_ack{"text/xml; charset=utf-8", "<Response></Response>"}};

}  // namespace stopgate::carriers::plivo
