#include "carriers/vonage/signature.hpp"

#include "carriers/signature/crypto.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

namespace stopgate::carriers::signature {
namespace {

std::string underscored(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '&' || c == '=') c = '_';
  return out;
}

// Gathers the signed params: query for GET, else a urlencoded or JSON body.
boost::system::result<param_list> collect_params(const webhook_request& req) {
  std::string_view url = req.url;
  std::size_t q = url.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view{} : url.substr(q + 1);
  query = query.substr(0, query.find('#'));
  if (iequals(req.method, "GET") || req.body.empty()) return parse_form(query);
  if (is_form_content_type(req.content_type)) return parse_form(req.body);
  boost::system::error_code ec;
  // Text that is not UTF-8 is signed (and recorded) byte for byte, not refused.
  boost::json::parse_options opts;
  opts.allow_invalid_utf8 = true;
  boost::json::value doc = boost::json::parse(req.body, ec, {}, opts);
  if (ec || !doc.is_object()) return make_error_code(verify_errc::malformed_params);
  param_list out;
  for (const auto& member : doc.as_object()) {
    if (out.size() == max_params) return make_error_code(verify_errc::malformed_params);
    const auto& v = member.value();
    if (v.is_object() || v.is_array()) return make_error_code(verify_errc::malformed_params);
    std::string value = v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
    out.emplace_back(std::string(member.key()), std::move(value));
  }
  return out;
}

std::optional<std::int64_t> as_seconds(const boost::json::value* v) {
  if (!v) return std::nullopt;
  // Bounded to +-10^15 s so that later arithmetic on the value cannot overflow.
  constexpr std::int64_t bound = 1'000'000'000'000'000;
  if (v->is_int64()) {
    if (v->as_int64() > bound || v->as_int64() < -bound) return std::nullopt;
    return v->as_int64();
  }
  if (v->is_uint64()) return std::nullopt;  // only values above INT64_MAX are stored as uint64
  if (v->is_double()) {
    double d = v->as_double();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return std::nullopt;
    return std::int64_t(std::floor(d));
  }
  return std::nullopt;
}

std::optional<boost::json::object> decode_json_part(std::string_view part) {
  auto raw = base64url_decode(part);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

constexpr std::size_t max_jwt_size = 8192;

}  // namespace

std::string vonage_signed_string(param_list params) {
  std::sort(params.begin(), params.end());
  std::string s;
  for (const auto& [key, value] : params) {
    if (key == "sig") continue;
    s += '&';
    s += underscored(key);
    s += '=';
    s += underscored(value);
  }
  return s;
}

std::string vonage_sign(const param_list& params, std::string_view secret,
                        vonage_sig_method method) {
  std::string s = vonage_signed_string(params);
  switch (method) {
    case vonage_sig_method::md5hash: return hex_encode(digest(digest_alg::md5, s + std::string(secret)));
    case vonage_sig_method::md5: return hex_encode(hmac(digest_alg::md5, secret, s));
    case vonage_sig_method::sha1: return hex_encode(hmac(digest_alg::sha1, secret, s));
    case vonage_sig_method::sha256: return hex_encode(hmac(digest_alg::sha256, secret, s));
    case vonage_sig_method::sha512: return hex_encode(hmac(digest_alg::sha512, secret, s));
  }
  return {};
}

verify_result verify_vonage_sms(const webhook_request& req, const vonage_sms_secrets& secrets,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds window) {
  auto params = collect_params(req);
  if (!params) return fail(verify_errc::malformed_params);
  const std::string *sig = nullptr, *ts = nullptr, *nonce = nullptr;
  for (const auto& [key, value] : *params) {
    const std::string** slot = key == "sig"         ? &sig
                               : key == "timestamp" ? &ts
                               : key == "nonce"     ? &nonce
                                                    : nullptr;
    if (!slot) continue;
    if (*slot) return fail(verify_errc::bad_header_format);
    *slot = &value;
  }
  if (!sig) return fail(verify_errc::missing_signature);
  if (secrets.signature_secret.empty()) return fail(verify_errc::bad_key);
  auto given = hex_decode(*sig);
  if (!given || given->empty() || !ts) return fail(verify_errc::bad_header_format);
  auto when = parse_unix_seconds(*ts);
  if (!when) return fail(verify_errc::bad_header_format);
  // Decoding both sides makes the compare case-insensitive (SDKs differ in hex case).
  auto expected = hex_decode(vonage_sign(*params, secrets.signature_secret, secrets.method));
  if (!expected || !constant_time_equal(*given, *expected)) return fail(verify_errc::bad_signature);
  if (!fresh(*when, now, window)) return fail(verify_errc::stale_timestamp);
  verify_result r;
  r.timestamp = *when;
  if (nonce) r.nonce = *nonce;
  return r;
}

std::string jwt_hs256_encode(std::string_view secret, std::string_view header_json,
                             std::string_view claims_json) {
  std::string signing_input = base64url_encode(header_json);
  signing_input += '.';
  signing_input += base64url_encode(claims_json);
  std::string mac = hmac(digest_alg::sha256, secret, signing_input);
  return signing_input + "." + base64url_encode(mac);
}

std::string vonage_jwt_sign(std::string_view signature_secret, std::int64_t iat,
                            std::string_view body, std::string_view jti) {
  boost::json::object claims;
  claims["iat"] = iat;
  if (!jti.empty()) claims["jti"] = jti;
  claims["payload_hash"] = hex_encode(digest(digest_alg::sha256, body));
  return jwt_hs256_encode(signature_secret, R"({"alg":"HS256","typ":"JWT"})",
                          boost::json::serialize(claims));
}

verify_result verify_vonage_jwt(const webhook_request& req, std::string_view signature_secret,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds window) {
  auto auth = find_header(req, "Authorization");
  if (auth.st == header_lookup::state::absent) return fail(verify_errc::missing_signature);
  if (auth.st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
  std::string_view value = auth.value;
  if (value.size() < 7 || !iequals(value.substr(0, 7), "Bearer "))
    return fail(verify_errc::missing_signature);
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty() || token.size() > max_jwt_size) return fail(verify_errc::bad_header_format);
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(verify_errc::bad_header_format);
  if (signature_secret.empty()) return fail(verify_errc::bad_key);

  auto header = decode_json_part(token.substr(0, dot1));
  if (!header) return fail(verify_errc::bad_header_format);
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->as_string() != "HS256")
    return fail(verify_errc::unsupported_algorithm);

  auto given = base64url_decode(token.substr(dot2 + 1));
  if (!given || given->size() != 32) return fail(verify_errc::bad_signature);
  std::string_view signing_input = token.substr(0, dot2);
  if (!constant_time_equal(*given, hmac(digest_alg::sha256, signature_secret, signing_input)))
    return fail(verify_errc::bad_signature);

  // Only an authentic token's claims are looked at.
  auto claims = decode_json_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return fail(verify_errc::bad_header_format);
  auto iat = as_seconds(claims->if_contains("iat"));
  if (!iat) return fail(verify_errc::bad_header_format);
  if (!fresh(*iat, now, window)) return fail(verify_errc::stale_timestamp);
  if (const auto* exp = claims->if_contains("exp")) {
    auto e = as_seconds(exp);
    std::int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (!e) return fail(verify_errc::bad_header_format);
    if (now_s >= *e) return fail(verify_errc::stale_timestamp);
  }
  if (const auto* hash = claims->if_contains("payload_hash")) {
    std::optional<std::string> want;
    if (hash->is_string()) want = hex_decode(hash->as_string());
    if (!want || !constant_time_equal(*want, digest(digest_alg::sha256, req.body)))
      return fail(verify_errc::body_hash_mismatch);
  }
  verify_result r;
  r.timestamp = *iat;
  if (const auto* jti = claims->if_contains("jti"); jti && jti->is_string())
    r.nonce = std::string(jti->as_string());
  return r;
}

}  // namespace stopgate::carriers::signature
