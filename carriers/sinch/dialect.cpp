// Sinch's row: its wire format (carriers/sinch/wire.hpp) and signature scheme
// (carriers/sinch/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/sinch/signature.hpp"
#include "carriers/sinch/wire.hpp"

namespace stopgate::carriers::sinch {
namespace {

boost::system::result<std::vector<status_update>> status(std::string_view content_type, std::string_view body,
                                                         std::string_view query) {
  (void)query;  // JSON bodies only
  return parse_status_updates(content_type, body);
}

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  const auto& k = c.creds<config::sinch_credentials>();
  if (k.webhook_secret.empty()) return signature::fail(signature::verify_errc::bad_key);
  return signature::verify_sinch(req, k.webhook_secret.reveal(), check.now, check.window);
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::sinch,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &status,
    &verify};

}  // namespace stopgate::carriers::sinch
