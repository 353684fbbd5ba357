#include "carriers/plivo/signature.hpp"

#include "carriers/signature/crypto.hpp"

#include <algorithm>

namespace stopgate::carriers::signature {
namespace {

std::string_view without_query(std::string_view url) noexcept {
  return url.substr(0, url.find_first_of("?#"));
}

std::string_view query_of(std::string_view url) noexcept {
  std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = url.substr(q + 1);
  return rest.substr(0, rest.find('#'));
}

std::string join_kv(param_list params, std::string_view kv_sep, std::string_view item_sep) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out += item_sep;
    out += params[i].first;
    out += kv_sep;
    out += params[i].second;
  }
  return out;
}

std::string mac_b64(std::string_view token, std::string_view msg) {
  return base64_encode(hmac(digest_alg::sha256, token, msg));
}

// One (header, token) pair to try.
struct candidate {
  header_lookup header;
  std::string_view token;
};

// Shared by V2 and V3: finds the nonce and the signature headers, and decides which
// configured tokens can be tried. `check(token, header_value)` does the scheme's compare.
template <class Check>
verify_result verify_common(const webhook_request& req, const plivo_secrets& secrets,
                            std::string_view sig_name, std::string_view ma_sig_name,
                            std::string_view nonce_name, Check check) {
  candidate cands[2] = {{find_header(req, sig_name), secrets.auth_token},
                        {find_header(req, ma_sig_name), secrets.main_account_token}};
  auto nonce = find_header(req, nonce_name);
  bool any_sig = false;
  for (const auto& c : cands) {
    if (c.header.st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
    any_sig |= c.header.st == header_lookup::state::one;
  }
  if (!any_sig || nonce.st == header_lookup::state::absent)
    return fail(verify_errc::missing_signature);
  if (nonce.st == header_lookup::state::duplicate || nonce.value.empty())
    return fail(verify_errc::bad_header_format);
  bool usable = false, match = false;
  for (const auto& c : cands) {
    if (c.header.st != header_lookup::state::one || c.token.empty()) continue;
    usable = true;
    match |= check(c.token, c.header.value, nonce.value);
  }
  if (!usable) return fail(verify_errc::bad_key);
  if (!match) return fail(verify_errc::bad_signature);
  verify_result r;
  r.nonce = std::string(nonce.value);
  return r;
}

}  // namespace

std::string plivo_v3_signed_string(std::string_view method, std::string_view url,
                                   const param_list& params) {
  std::string out(without_query(url));
  auto query = parse_form(query_of(url));
  param_list query_params = query ? std::move(*query) : param_list{};
  if (iequals(method, "GET")) {
    query_params.insert(query_params.end(), params.begin(), params.end());
    std::string qs = join_kv(std::move(query_params), "=", "&");
    if (!qs.empty()) out += "?" + qs;
    return out;
  }
  std::string qs = join_kv(std::move(query_params), "=", "&");
  if (!params.empty() || !qs.empty()) out += '?';
  out += qs;
  if (!params.empty() && !qs.empty()) out += '.';
  out += join_kv(params, "", "");
  return out;
}

std::string plivo_v2_sign(std::string_view auth_token, std::string_view url,
                          std::string_view nonce) {
  std::string msg(without_query(url));
  msg += nonce;
  return mac_b64(auth_token, msg);
}

std::string plivo_v3_sign(std::string_view auth_token, std::string_view method,
                          std::string_view url, std::string_view nonce,
                          const param_list& params) {
  std::string msg = plivo_v3_signed_string(method, url, params);
  msg += '.';
  msg += nonce;
  return mac_b64(auth_token, msg);
}

verify_result verify_plivo_v2(const webhook_request& req, const plivo_secrets& secrets) {
  std::string_view base = without_query(req.url);
  return verify_common(
      req, secrets, "X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2",
      "X-Plivo-Signature-V2-Nonce",
      [&](std::string_view token, std::string_view header, std::string_view nonce) {
        auto given = base64_decode(header);
        if (!given) return false;
        std::string msg(base);
        msg += nonce;
        return constant_time_equal(*given, hmac(digest_alg::sha256, token, msg));
      });
}

verify_result verify_plivo_v3(const webhook_request& req, const plivo_secrets& secrets) {
  param_list params;
  if (!iequals(req.method, "GET") && is_form_content_type(req.content_type)) {
    auto form = parse_form(req.body);
    if (!form) return fail(verify_errc::malformed_params);
    params = std::move(*form);
  }
  if (!parse_form(query_of(req.url))) return fail(verify_errc::malformed_params);
  std::string base = plivo_v3_signed_string(req.method, req.url, params);
  return verify_common(
      req, secrets, "X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3",
      "X-Plivo-Signature-V3-Nonce",
      [&](std::string_view token, std::string_view header, std::string_view nonce) {
        std::string expected = hmac(digest_alg::sha256, token, base + "." + std::string(nonce));
        bool match = false;
        // Plivo lists one signature per active token; any of them may be ours.
        std::size_t count = 0;
        while (count++ < 16) {
          std::size_t comma = header.find(',');
          std::string_view item = header.substr(0, comma);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
          if (auto given = base64_decode(item)) match |= constant_time_equal(*given, expected);
          if (comma == std::string_view::npos) break;
          header = header.substr(comma + 1);
        }
        return match;
      });
}

verify_result verify_plivo(const webhook_request& req, const plivo_secrets& secrets) {
  for (std::string_view name :
       {"X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3", "X-Plivo-Signature-V3-Nonce"})
    if (find_header(req, name).st != header_lookup::state::absent)
      return verify_plivo_v3(req, secrets);
  return verify_plivo_v2(req, secrets);
}

}  // namespace stopgate::carriers::signature
