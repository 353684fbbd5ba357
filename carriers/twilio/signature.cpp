#include "carriers/twilio/signature.hpp"

#include "carriers/signature/crypto.hpp"

#include <algorithm>
#include <optional>

namespace stopgate::carriers::signature {
namespace {

constexpr std::string_view signature_header = "X-Twilio-Signature";
constexpr std::string_view settings_header = "X-Twilio-Webhooks-Signature-Settings";

// The query of `url` with every `'` written as %27 (encode) or every %27 as `'` (decode);
// nullopt when that changes nothing. Escapes are read as whole triplets, so "%2527" (an
// encoded "%27") stays as it is.
std::optional<std::string> respell_quotes(std::string_view url, bool encode) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  const std::size_t end = std::min(url.find('#', q), url.size());
  std::string out(url.substr(0, q + 1));
  bool changed = false;
  for (std::size_t i = q + 1; i < end; ++i) {
    if (encode && url[i] == '\'') {
      out += "%27";
      changed = true;
    } else if (url[i] == '%' && i + 2 < end) {
      if (!encode && url[i + 1] == '2' && url[i + 2] == '7') {
        out += '\'';
        changed = true;
      } else {
        out.append(url.substr(i, 3));
      }
      i += 2;
    } else {
      out += url[i];
    }
  }
  if (!changed) return std::nullopt;
  out.append(url.substr(end));
  return out;
}

// The URL variants Twilio's SDK validators accept: as given, without the port, and with the
// scheme's default port added when none is present; each also with the query's `'` spelled
// the other way (`'` or %27), because Twilio signs the URL as its own normaliser writes it.
std::vector<std::string> url_variants(std::string_view url) {
  std::vector<std::string> out{std::string(url)};
  auto p = split_url(url);
  if (p) {
    std::string prefix = std::string(p->scheme) + "://";
    if (!p->userinfo.empty()) prefix += std::string(p->userinfo) + "@";
    prefix += p->host;
    // Everything after the authority (path, query, fragment) is kept byte for byte.
    std::size_t after = std::size_t(p->host.data() - url.data()) + p->host.size();
    if (after < url.size() && url[after] == ':') after += 1 + p->port.size();
    std::string suffix(url.substr(std::min(after, url.size())));
    if (!p->port.empty()) {
      out.push_back(prefix + suffix);
    } else if (iequals(p->scheme, "https")) {
      out.push_back(prefix + ":443" + suffix);
    } else if (iequals(p->scheme, "http")) {
      out.push_back(prefix + ":80" + suffix);
    }
  }
  const std::size_t by_port = out.size();
  for (std::size_t i = 0; i < by_port; ++i)
    for (bool encode : {true, false})
      if (auto v = respell_quotes(out[i], encode)) out.push_back(std::move(*v));
  return out;
}

// Parses "key=<id>,algorithm=<name>" (order free, spaces around items tolerated).
bool parse_settings(std::string_view v, std::string_view& key, std::string_view& algorithm) {
  key = {};
  algorithm = {};
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    if (iequals(name, "key")) {
      if (!key.empty()) return false;
      key = value;
    } else if (iequals(name, "algorithm")) {
      if (!algorithm.empty()) return false;
      algorithm = value;
    }
  }
  return !key.empty() && !algorithm.empty();
}

}  // namespace

std::string twilio_signed_string(std::string_view url, param_list params) {
  std::sort(params.begin(), params.end());
  params.erase(std::unique(params.begin(), params.end()), params.end());
  std::string s(url);
  for (const auto& [name, value] : params) {
    s += name;
    s += value;
  }
  return s;
}

std::string twilio_sign(std::string_view auth_token, std::string_view url,
                        const param_list& params) {
  return base64_encode(hmac(digest_alg::sha1, auth_token, twilio_signed_string(url, params)));
}

std::string twilio_sign_shared_key(std::string_view shared_key, std::string_view url,
                                   const param_list& params) {
  return base64_encode(hmac(digest_alg::sha256, shared_key, twilio_signed_string(url, params)));
}

std::string twilio_body_sha256(std::string_view body) {
  return hex_encode(digest(digest_alg::sha256, body));
}

verify_result verify_twilio(const webhook_request& req, const twilio_secrets& secrets) {
  auto sig = find_header(req, signature_header);
  if (sig.st == header_lookup::state::absent) return fail(verify_errc::missing_signature);
  if (sig.st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
  auto given = base64_decode(sig.value);
  if (!given || given->empty()) return fail(verify_errc::bad_header_format);

  // Pick the key: a SharedKey when the settings header names one, else the Auth Token.
  digest_alg alg = digest_alg::sha1;
  std::string_view key = secrets.auth_token;
  auto settings = find_header(req, settings_header);
  if (settings.st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
  if (settings.st == header_lookup::state::one) {
    std::string_view key_id, algorithm;
    if (!parse_settings(settings.value, key_id, algorithm))
      return fail(verify_errc::bad_header_format);
    if (algorithm != "HMAC_SHA256") return fail(verify_errc::unsupported_algorithm);
    auto it = std::find_if(secrets.shared_keys.begin(), secrets.shared_keys.end(),
                           [&](const auto& kv) { return kv.first == key_id; });
    if (it == secrets.shared_keys.end() || it->second.empty()) return fail(verify_errc::bad_key);
    alg = digest_alg::sha256;
    key = it->second;
  }
  if (key.empty()) return fail(verify_errc::bad_key);

  auto parts = split_url(req.url);
  if (!parts) return fail(verify_errc::bad_header_format);
  auto query = parse_form(parts->query);
  if (!query) return fail(verify_errc::malformed_params);

  // A non-form body is covered by bodySHA256 in the URL; the signature then covers the URL only.
  param_list params;
  const std::string* body_hash = nullptr;
  for (const auto& [name, value] : *query) {
    if (name != "bodySHA256") continue;
    if (body_hash) return fail(verify_errc::bad_header_format);
    body_hash = &value;
  }
  if (body_hash) {
    auto want = hex_decode(*body_hash);
    if (!want || !constant_time_equal(*want, digest(digest_alg::sha256, req.body)))
      return fail(verify_errc::body_hash_mismatch);
  } else if (is_form_content_type(req.content_type)) {
    auto form = parse_form(req.body);
    if (!form) return fail(verify_errc::malformed_params);
    params = std::move(*form);
  } else if (!req.body.empty()) {
    return fail(verify_errc::body_hash_mismatch);
  }

  // Sorting once is enough: the variants differ only in the URL prefix.
  std::string param_part = twilio_signed_string("", std::move(params));
  bool match = false;
  for (const auto& url : url_variants(req.url)) {
    // Evaluate every variant so the time taken does not reveal which one matched.
    match |= constant_time_equal(*given, hmac(alg, key, url + param_part));
  }
  if (!match) return fail(verify_errc::bad_signature);
  return {};
}

}  // namespace stopgate::carriers::signature
