// Telnyx's row: its wire format (carriers/telnyx/wire.hpp) and signature scheme
// (carriers/telnyx/signature.hpp).
#include "carriers/dialect.hpp"
#include "carriers/telnyx/signature.hpp"
#include "carriers/telnyx/wire.hpp"

#include <cstring>

namespace stopgate::carriers::telnyx {
namespace {

signature::verify_result verify(const config::carrier_settings& c, const signature::webhook_request& req,
                                const webhook_check& check) {
  const auto& k = c.creds<config::telnyx_credentials>();
  if (k.public_key.size() != 32) return signature::fail(signature::verify_errc::bad_key);
  signature::ed25519_public_key key{};
  std::memcpy(key.data(), k.public_key.data(), key.size());
  return signature::verify_telnyx(req, key, check.now, check.window);
}

}  // namespace

extern const dialect dialect_row{
    config::carrier_type::telnyx,
    &always_send<build_send>,
    &parse_send_response,
    &one_inbound<parse_inbound>,
    &one_status<parse_status>,
    &verify};

}  // namespace stopgate::carriers::telnyx
