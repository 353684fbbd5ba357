#include "carriers/sinch/signature.hpp"

#include "carriers/signature/crypto.hpp"

namespace stopgate::carriers::signature {
namespace {

std::string signed_string(std::string_view body, std::string_view nonce, std::string_view ts) {
  std::string s;
  s.reserve(body.size() + nonce.size() + ts.size() + 2);
  s += body;
  s += '.';
  s += nonce;
  s += '.';
  s += ts;
  return s;
}

}  // namespace

std::string sinch_sign(std::string_view secret, std::string_view body, std::string_view nonce,
                       std::int64_t timestamp) {
  return base64_encode(
      hmac(digest_alg::sha256, secret, signed_string(body, nonce, std::to_string(timestamp))));
}

verify_result verify_sinch(const webhook_request& req, std::string_view secret,
                           std::chrono::system_clock::time_point now,
                           std::chrono::seconds window) {
  auto sig = find_header(req, "x-sinch-webhook-signature");
  auto nonce = find_header(req, "x-sinch-webhook-signature-nonce");
  auto ts = find_header(req, "x-sinch-webhook-signature-timestamp");
  auto alg = find_header(req, "x-sinch-webhook-signature-algorithm");
  for (const auto* h : {&sig, &nonce, &ts})
    if (h->st == header_lookup::state::absent) return fail(verify_errc::missing_signature);
  for (const auto* h : {&sig, &nonce, &ts, &alg})
    if (h->st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
  if (alg.st == header_lookup::state::one && alg.value != "HmacSHA256")
    return fail(verify_errc::unsupported_algorithm);
  if (secret.empty()) return fail(verify_errc::bad_key);
  auto given = base64_decode(sig.value);
  auto when = parse_unix_seconds(ts.value);
  if (!given || given->empty() || !when || nonce.value.empty())
    return fail(verify_errc::bad_header_format);
  if (!constant_time_equal(
          *given, hmac(digest_alg::sha256, secret, signed_string(req.body, nonce.value, ts.value))))
    return fail(verify_errc::bad_signature);
  if (!fresh(*when, now, window)) return fail(verify_errc::stale_timestamp);
  verify_result r;
  r.nonce = std::string(nonce.value);
  r.timestamp = *when;
  return r;
}

}  // namespace stopgate::carriers::signature
