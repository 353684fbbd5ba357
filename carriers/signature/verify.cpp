#include "carriers/signature/verify.hpp"

#include "carriers/signature/bandwidth.hpp"
#include "carriers/signature/crypto.hpp"
#include "carriers/signature/plivo.hpp"
#include "carriers/signature/sandbox.hpp"
#include "carriers/signature/sinch.hpp"
#include "carriers/signature/telnyx.hpp"
#include "carriers/signature/twilio.hpp"
#include "carriers/signature/vonage.hpp"

#include <algorithm>
#include <cstring>

namespace stopgate::carriers::signature {
namespace {

bool has_bearer(const webhook_request& req) {
  auto h = find_header(req, "authorization");
  return h.st == header_lookup::state::one && h.value.size() > 7 && iequals(h.value.substr(0, 7), "Bearer ");
}

verify_result hmac_stopgate(const config::secret& s, const webhook_request& req,
                            std::chrono::system_clock::time_point now, bool loopback_peer,
                            bool unsigned_from_loopback, std::chrono::seconds window) {
  if (s.empty()) return unsigned_from_loopback && loopback_peer ? verify_result{} : fail(verify_errc::bad_key);
  return verify_sandbox(req, s.reveal(), now, window);
}

}  // namespace

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
  using config::carrier_type;
  switch (c.type) {
    case carrier_type::twilio: {
      auto& k = c.creds<config::twilio_credentials>();
      if (k.auth_token.empty()) return fail(verify_errc::bad_key);
      return verify_twilio(req, twilio_secrets{k.auth_token.reveal(), {}});
    }
    case carrier_type::telnyx: {
      auto& k = c.creds<config::telnyx_credentials>();
      if (k.public_key.size() != 32) return fail(verify_errc::bad_key);
      ed25519_public_key key{};
      std::memcpy(key.data(), k.public_key.data(), key.size());
      return verify_telnyx(req, key, now, window);
    }
    case carrier_type::bandwidth: {
      auto& k = c.creds<config::bandwidth_credentials>();
      if (k.webhook_username.empty() || k.webhook_password.empty()) return fail(verify_errc::bad_key);
      return verify_bandwidth(req, bandwidth_credentials{k.webhook_username, k.webhook_password.reveal()});
    }
    case carrier_type::vonage: {
      auto& k = c.creds<config::vonage_credentials>();
      if (k.signature_secret.empty()) return fail(verify_errc::bad_key);
      if (has_bearer(req)) return verify_vonage_jwt(req, k.signature_secret.reveal(), now, window);
      const vonage_sms_secrets secrets{k.signature_secret.reveal(),
                                       to_vonage_sig_method(k.signature_method)};
      return verify_vonage_sms(req, secrets, now, window);
    }
    case carrier_type::plivo: {
      auto& k = c.creds<config::plivo_credentials>();
      if (k.auth_token.empty()) return fail(verify_errc::bad_key);
      return verify_plivo(req, plivo_secrets{k.auth_token.reveal(), {}});
    }
    case carrier_type::sinch: {
      auto& k = c.creds<config::sinch_credentials>();
      if (k.webhook_secret.empty()) return fail(verify_errc::bad_key);
      return verify_sinch(req, k.webhook_secret.reveal(), now, window);
    }
    case carrier_type::http:
      return hmac_stopgate(c.creds<config::http_credentials>().webhook_secret, req, now, loopback_peer, false, window);
    case carrier_type::sandbox:
      return hmac_stopgate(c.creds<config::sandbox_credentials>().webhook_secret, req, now, loopback_peer, true,
                           window);
  }
  return fail(verify_errc::bad_key);
}

}  // namespace stopgate::carriers::signature
