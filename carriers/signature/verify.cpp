#include "carriers/signature/verify.hpp"

#include "carriers/dialect.hpp"

namespace stopgate::carriers::signature {

vonage_sig_method to_vonage_sig_method(config::vonage_signature_method m) {
  switch (m) {
    case config::vonage_signature_method::md5hash: return vonage_sig_method::md5hash;
    case config::vonage_signature_method::md5: return vonage_sig_method::md5;
    case config::vonage_signature_method::sha1: return vonage_sig_method::sha1;
    case config::vonage_signature_method::sha256: return vonage_sig_method::sha256;
    case config::vonage_signature_method::sha512: return vonage_sig_method::sha512;
  }
  return vonage_sig_method::sha256;
}

verify_result verify_webhook(const config::carrier_settings& c, const webhook_request& req,
                             std::chrono::system_clock::time_point now, bool loopback_peer,
                             std::chrono::seconds window) {
  return dialect_of(c.type).verify_webhook(c, req, webhook_check{now, loopback_peer, window});
}

}  // namespace stopgate::carriers::signature
