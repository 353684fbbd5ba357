// Feeds random requests to every webhook verifier: no crash, and never "ok" without the
// right secret (the secrets below are long random strings the fuzzer cannot guess). Also
// checks that what the signing helpers produce for the fuzzed body verifies.
//
// Input: fields separated by 0x1f: method, url, content type, body, then headers whose first
// byte picks a known header name (so the verifiers' deep paths are reached) and the rest is
// the value.
#include "carriers/bandwidth/signature.hpp"
#include "carriers/signature/crypto.hpp"
#include "carriers/plivo/signature.hpp"
#include "carriers/sandbox/signature.hpp"
#include "carriers/sinch/signature.hpp"
#include "carriers/telnyx/signature.hpp"
#include "carriers/twilio/signature.hpp"
#include "carriers/vonage/signature.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace sig = stopgate::carriers::signature;

namespace {

constexpr std::string_view names[] = {
    "X-Twilio-Signature", "X-Twilio-Webhooks-Signature-Settings", "telnyx-signature-ed25519",
    "telnyx-timestamp", "X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2",
    "X-Plivo-Signature-V2-Nonce", "X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3",
    "X-Plivo-Signature-V3-Nonce", "Authorization", "x-sinch-webhook-signature",
    "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-timestamp",
    "x-sinch-webhook-signature-algorithm", "X-Stopgate-Signature", "X-Stopgate-Timestamp",
};

constexpr std::string_view secret = "q8Zr0Lk3VbN2mW7xT1yP4sD6fG9hJ0aE";
const std::string seed = sig::hex_decode(
    "3a1f9c6e2b7d4058a6e1c9f03b2d7e4f5a6b8c9d0e1f2a3b4c5d6e7f8091a2b3").value();

[[noreturn]] void forged(const char* scheme) {
  (void)scheme;
  std::abort();
}

void must_fail(const sig::verify_result& r, const char* scheme) {
  if (r.ok()) forged(scheme);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  sig::webhook_request req;
  std::string* fields[] = {&req.method, &req.url, &req.content_type, &req.body};
  std::size_t field = 0;
  while (true) {
    std::size_t sep = in.find('\x1f');
    std::string_view part = in.substr(0, sep);
    if (field < 4) {
      *fields[field] = std::string(part);
    } else if (!part.empty() && req.headers.size() < 32) {
      auto idx = static_cast<unsigned char>(part[0]);
      std::string name = idx < std::size(names) ? std::string(names[idx]) : "X-Other";
      req.headers.emplace_back(std::move(name), std::string(part.substr(1)));
    }
    ++field;
    if (sep == std::string_view::npos) break;
    in.remove_prefix(sep + 1);
  }

  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds(1700000000)};
  const auto key = sig::ed25519_public_from_seed(seed).value();

  must_fail(sig::verify_twilio(req, {std::string(secret), {{"KEY1", std::string(secret) + "k"}}}),
            "twilio");
  must_fail(sig::verify_telnyx(req, key, now), "telnyx");
  must_fail(sig::verify_plivo(req, {std::string(secret), std::string(secret) + "m"}), "plivo");
  must_fail(sig::verify_plivo_v2(req, {std::string(secret), ""}), "plivo_v2");
  must_fail(sig::verify_plivo_v3(req, {std::string(secret), ""}), "plivo_v3");
  for (auto m : {sig::vonage_sig_method::md5hash, sig::vonage_sig_method::md5,
                 sig::vonage_sig_method::sha1, sig::vonage_sig_method::sha256,
                 sig::vonage_sig_method::sha512})
    must_fail(sig::verify_vonage_sms(req, {std::string(secret), m}, now), "vonage_sms");
  must_fail(sig::verify_vonage_jwt(req, secret, now), "vonage_jwt");
  must_fail(sig::verify_sinch(req, secret, now), "sinch");
  must_fail(sig::verify_bandwidth(req, {"stopgate-bw", std::string(secret)}), "bandwidth");
  must_fail(sig::verify_sandbox(req, secret, now), "sandbox");

  // Round trip: a correctly signed copy of this body verifies.
  sig::webhook_request signed_req;
  signed_req.method = "POST";
  signed_req.body = req.body;
  signed_req.headers = {{"X-Stopgate-Signature", sig::sandbox_sign(secret, 1700000000, req.body)},
                        {"X-Stopgate-Timestamp", "1700000000"}};
  if (!sig::verify_sandbox(signed_req, secret, now).ok()) std::abort();
  signed_req.headers = {{"telnyx-signature-ed25519", sig::telnyx_sign(seed, 1700000000, req.body).value()},
                        {"telnyx-timestamp", "1700000000"}};
  if (!sig::verify_telnyx(signed_req, key, now).ok()) std::abort();
  signed_req.headers = {{"Authorization", "Bearer " + sig::vonage_jwt_sign(secret, 1700000000, req.body)}};
  if (!sig::verify_vonage_jwt(signed_req, secret, now).ok()) std::abort();

  // The codecs alone.
  if (auto d = sig::base64_decode(req.body); d && sig::base64_decode(sig::base64_encode(*d)) != d)
    std::abort();
  if (auto d = sig::base64url_decode(req.body);
      d && sig::base64url_decode(sig::base64url_encode(*d)) != d)
    std::abort();
  (void)sig::parse_form(req.body);
  (void)sig::split_url(req.url);
  (void)sig::plivo_v3_signed_string(req.method, req.url, {});
  return 0;
}
