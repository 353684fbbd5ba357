// Webhook signature verification: the request as the HTTP layer hands it over, the verdict,
// and the parsing helpers every scheme shares (header lookup, form/query decoding, timestamps).
//
// Verifiers are pure functions over a webhook_request value: no I/O, no clocks (time comes in
// as a parameter), no global state. They are thread-safe and never throw on request input.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::carriers::signature {

/// Why a webhook was refused. The HTTP layer answers every one of them with 403.
enum class verify_errc {
  missing_signature = 1,  // the scheme's signature header/param is absent
  bad_signature,          // well formed, but the MAC/signature does not match
  stale_timestamp,        // signed time outside the replay window (past or future)
  replayed_nonce,         // never returned by a verifier: for the caller's nonce/id dedupe
  bad_header_format,      // a header/param is malformed, duplicated, or badly encoded
  bad_key,                // no usable secret/key configured for this request
  body_hash_mismatch,     // the signed body hash differs from the body (or is required but absent)
  unsupported_algorithm,  // the request names an algorithm we do not accept (e.g. JWT "none")
  malformed_params,       // the form body or query string is not valid urlencoding
};

const boost::system::error_category& verify_category() noexcept;
inline boost::system::error_code make_error_code(verify_errc e) noexcept {
  return {static_cast<int>(e), verify_category()};
}

/// The raw parts of a webhook request. `url` is the PUBLIC url the carrier called, rebuilt by
/// the caller from http.public_url + path + query (never from the Host header); `body` is the
/// raw bytes as received (never re-serialized).
struct webhook_request {
  std::string method;  // "POST", "GET"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // names compared case-insensitively
  std::string body;
  std::string content_type;
};

/// The verdict. On success it carries what the scheme signed for replay handling: the nonce
/// and/or timestamp (unix seconds) when the scheme has them. Dedupe is the caller's job.
struct verify_result {
  boost::system::error_code error;
  std::string nonce;
  std::optional<std::int64_t> timestamp;

  bool ok() const noexcept { return !error; }
  explicit operator bool() const noexcept { return ok(); }
};

inline verify_result fail(verify_errc e) { return verify_result{make_error_code(e), {}, {}}; }

/// Default replay window for timestamped schemes (SPEC section 4: 5 minutes).
inline constexpr std::chrono::seconds default_replay_window{300};

/// Upper bound on decoded parameters per request; more is treated as malformed.
inline constexpr std::size_t max_params = 4096;

using param_list = std::vector<std::pair<std::string, std::string>>;

/// A header lookup: absent, exactly one value, or present more than once (ambiguous).
struct header_lookup {
  enum class state { absent, one, duplicate } st = state::absent;
  std::string_view value;
};
header_lookup find_header(const webhook_request& req, std::string_view name) noexcept;

/// Decodes application/x-www-form-urlencoded text ('+' is a space, %XX strict). Empty
/// segments are skipped; a segment without '=' is a name with an empty value.
boost::system::result<param_list> parse_form(std::string_view text);

/// True when the media type (before any ';') is application/x-www-form-urlencoded.
bool is_form_content_type(std::string_view content_type) noexcept;

/// Splits "scheme://authority/path?query#frag" into the parts the schemes need.
struct url_parts {
  std::string_view scheme;    // lower-case expected: "https"
  std::string_view userinfo;  // without '@'; empty when absent
  std::string_view host;      // without port
  std::string_view port;      // digits; empty when absent
  std::string_view path;      // encoded, may be empty
  std::string_view query;     // encoded, without '?'
  bool has_query = false;
};
std::optional<url_parts> split_url(std::string_view url) noexcept;

/// Unix seconds as decimal digits only (no sign, no spaces, at most 18 digits).
std::optional<std::int64_t> parse_unix_seconds(std::string_view text) noexcept;

/// True when |now - ts| <= window.
bool fresh(std::int64_t ts, std::chrono::system_clock::time_point now,
           std::chrono::seconds window) noexcept;

/// ASCII case-insensitive equality (header names, schemes, algorithm names).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace stopgate::carriers::signature

template <>
struct boost::system::is_error_code_enum<stopgate::carriers::signature::verify_errc>
    : std::true_type {};
