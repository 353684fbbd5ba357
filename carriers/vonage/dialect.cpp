// Vonage's row: its wire format (carriers/vonage/wire.hpp) and signature scheme
// (carriers/vonage/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/signature/verify.hpp"
#include "carriers/vonage/signature.hpp"
#include "carriers/vonage/wire.hpp"

namespace stopgate::carriers::vonage {
namespace {

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  const auto& k = c.creds<config::vonage_credentials>();
  if (k.signature_secret.empty()) return signature::fail(signature::verify_errc::bad_key);
  // A Messages API webhook carries a Bearer JWT; an SMS API one the signed-request `sig`.
  const auto auth = signature::find_header(req, "authorization");
  if (auth.st == signature::header_lookup::state::one && auth.value.size() > 7 &&
      signature::iequals(auth.value.substr(0, 7), "Bearer "))
    return signature::verify_vonage_jwt(req, k.signature_secret.reveal(), check.now, check.window);
  const signature::vonage_sms_secrets secrets{k.signature_secret.reveal(),
                                              signature::to_vonage_sig_method(k.signature_method)};
  return signature::verify_vonage_sms(req, secrets, check.now, check.window);
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::vonage,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify};

}  // namespace stopgate::carriers::vonage
