#include "carriers/telnyx/signature.hpp"

namespace stopgate::carriers::signature {

std::optional<std::string> telnyx_sign(std::string_view private_seed, std::int64_t timestamp,
                                       std::string_view body) {
  std::string msg = std::to_string(timestamp);
  msg += '|';
  msg += body;
  auto sig = ed25519_sign(private_seed, msg);
  if (!sig) return std::nullopt;
  return base64_encode(*sig);
}

verify_result verify_telnyx(const webhook_request& req, const ed25519_public_key& public_key,
                            std::chrono::system_clock::time_point now,
                            std::chrono::seconds window) {
  auto sig = find_header(req, "telnyx-signature-ed25519");
  auto ts = find_header(req, "telnyx-timestamp");
  if (sig.st == header_lookup::state::absent || ts.st == header_lookup::state::absent)
    return fail(verify_errc::missing_signature);
  if (sig.st == header_lookup::state::duplicate || ts.st == header_lookup::state::duplicate)
    return fail(verify_errc::bad_header_format);
  auto raw_sig = base64_decode(sig.value);
  auto when = parse_unix_seconds(ts.value);
  if (!raw_sig || raw_sig->size() != 64 || !when) return fail(verify_errc::bad_header_format);

  // The header text itself is signed, so it is used as received (not re-formatted).
  std::string msg;
  msg.reserve(ts.value.size() + 1 + req.body.size());
  msg += ts.value;
  msg += '|';
  msg += req.body;
  if (!ed25519_verify(public_key, *raw_sig, msg)) return fail(verify_errc::bad_signature);
  if (!fresh(*when, now, window)) return fail(verify_errc::stale_timestamp);
  verify_result r;
  r.timestamp = *when;
  return r;
}

}  // namespace stopgate::carriers::signature
