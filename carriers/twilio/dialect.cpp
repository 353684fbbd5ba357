// Twilio's row: its wire format (carriers/twilio/wire.hpp) and signature scheme
// (carriers/twilio/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/twilio/signature.hpp"
#include "carriers/twilio/wire.hpp"

namespace stopgate::carriers::twilio {
namespace {

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  (void)check;  // Twilio's scheme has no timestamp
  const auto& k = c.creds<config::twilio_credentials>();
  if (k.auth_token.empty()) return signature::fail(signature::verify_errc::bad_key);
  return signature::verify_twilio(req, signature::twilio_secrets{k.auth_token.reveal(), {}});
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::twilio,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify,
    // TwiML with no reply: Twilio sends nothing back.
    webhook_ack{"text/xml; charset=utf-8", "<Response></Response>"}};

}  // namespace stopgate::carriers::twilio
