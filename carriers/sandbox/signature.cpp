#include "carriers/sandbox/signature.hpp"

#include "carriers/signature/crypto.hpp"

namespace stopgate::carriers::signature {
namespace {

constexpr std::string_view prefix = "sha256=";

std::string mac(std::string_view secret, std::string_view ts, std::string_view body) {
  std::string msg;
  msg.reserve(ts.size() + 1 + body.size());
  msg += ts;
  msg += '.';
  msg += body;
  return hmac(digest_alg::sha256, secret, msg);
}

}  // namespace

std::string sandbox_sign(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  return std::string(prefix) + hex_encode(mac(secret, std::to_string(timestamp), body));
}

verify_result verify_sandbox(const webhook_request& req, std::string_view secret,
                             std::chrono::system_clock::time_point now,
                             std::chrono::seconds window) {
  auto sig = find_header(req, "X-Stopgate-Signature");
  auto ts = find_header(req, "X-Stopgate-Timestamp");
  if (sig.st == header_lookup::state::absent || ts.st == header_lookup::state::absent)
    return fail(verify_errc::missing_signature);
  if (sig.st == header_lookup::state::duplicate || ts.st == header_lookup::state::duplicate)
    return fail(verify_errc::bad_header_format);
  std::string_view value = sig.value;
  if (value.substr(0, prefix.size()) != prefix) {
    // A different "alg=" prefix names an algorithm we do not speak.
    return fail(value.find('=') != std::string_view::npos ? verify_errc::unsupported_algorithm
                                                          : verify_errc::bad_header_format);
  }
  auto given = hex_decode(value.substr(prefix.size()));
  auto when = parse_unix_seconds(ts.value);
  if (!given || given->size() != 32 || !when) return fail(verify_errc::bad_header_format);
  if (secret.empty()) return fail(verify_errc::bad_key);
  if (!constant_time_equal(*given, mac(secret, ts.value, req.body)))
    return fail(verify_errc::bad_signature);
  if (!fresh(*when, now, window)) return fail(verify_errc::stale_timestamp);
  verify_result r;
  r.timestamp = *when;
  return r;
}

}  // namespace stopgate::carriers::signature
