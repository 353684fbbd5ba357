// Bandwidth's row: its wire format (carriers/bandwidth/wire.hpp) and signature scheme
// (carriers/bandwidth/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/bandwidth/signature.hpp"
#include "carriers/bandwidth/wire.hpp"

namespace stopgate::carriers::bandwidth {
namespace {

boost::system::result<std::vector<inbound_message>> inbound(std::string_view content_type, std::string_view body,
                                                            std::string_view query) {
  (void)query;  // JSON bodies only
  return parse_inbound_events(content_type, body);
}

boost::system::result<std::vector<status_update>> status(std::string_view content_type, std::string_view body,
                                                         std::string_view query) {
  (void)query;  // JSON bodies only
  return parse_status_events(content_type, body);
}

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  (void)check;  // basic auth: no timestamp
  const auto& k = c.creds<config::bandwidth_credentials>();
  if (k.webhook_username.empty() || k.webhook_password.empty())
    return signature::fail(signature::verify_errc::bad_key);
  return signature::verify_bandwidth(
      req, signature::bandwidth_credentials{k.webhook_username, k.webhook_password.reveal()});
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::bandwidth,
    &always_send<build_send>,
    &parse_send_response,
    &inbound,
    &status,
    &verify};

}  // namespace stopgate::carriers::bandwidth
