// Internal to the fake carrier: one row per carrier API (tools/fake_carrier/dialect_<name>.cpp):
// how it answers a send request, how it builds and signs its webhooks (inbound message,
// delivery status). The server and webhooks.cpp look the row up by type and name no carrier.
// Pure and thread-safe.
#pragma once

#include "carriers/signature/webhook_request.hpp"
#include "tools/fake_carrier/protocol.hpp"
#include "tools/fake_carrier/webhooks.hpp"

#include <boost/json/value.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <initializer_list>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stopgate::fake_carrier::dialect {

namespace json = boost::json;
namespace sig = carriers::signature;
using params = sig::param_list;

/// What a webhook builder is given besides the message.
struct build {
  const config::carrier_settings& c;
  std::string_view url;  // the full URL the gateway rebuilds and checks the signature over
  std::chrono::system_clock::time_point now;
  const signing& keys;
};

/// One carrier's row.
struct carrier_row {
  config::carrier_type type;
  /// The answer to a send request (with the fault to inject, if any).
  reply (*answer)(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
  /// The unsigned webhooks: content type and body; form carriers also fill `p`, the
  /// parameters their signature covers.
  void (*inbound)(webhook& w, params& p, const inbound_spec& m, const build& b);
  void (*status)(webhook& w, params& p, const status_spec& st, const build& b);
  /// Signs a built webhook in place (a carrier without a configured secret leaves it unsigned).
  void (*sign)(webhook& w, params p, std::string_view nonce, const build& b);
  /// Reads the carrier's section `key` of the fake's credentials file into `c`.
  boost::system::error_code (*read_credentials)(const json::object& o, std::string_view key,
                                                credentials& c, std::string& detail);
  /// The gateway's settings for the carrier with the credentials the fake expects.
  void (*settings)(config::carrier_settings& s, const credentials& c, std::string_view base_url);
};

extern const carrier_row twilio_row, telnyx_row, bandwidth_row, vonage_row, plivo_row, sinch_row,
    http_row, sandbox_row;
/// The row of `t`; every carrier_type has one.
const carrier_row& row_of(config::carrier_type t) noexcept;

/// One string member of a credentials section and where it goes.
struct string_field {
  std::string_view key;
  std::string* target;
};
/// Copies the string members of `obj` named in `fields`; any other member, or a value that is
/// not a string, is an error (`detail` says which, prefixed with `section`).
boost::system::error_code read_fields(const json::object& obj, std::string_view section,
                                      std::initializer_list<string_field> fields,
                                      std::string& detail);

/// The form encoding of `p` (application/x-www-form-urlencoded).
std::string form(const params& p);
/// `number` without its '+'.
std::string digits(std::string_view number);
/// Seconds since the epoch.
std::int64_t unix_seconds(std::chrono::system_clock::time_point t);

reply twilio(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply telnyx(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply bandwidth(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply vonage(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply plivo(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply sinch(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);
reply generic(const request_view& r, const std::optional<fault>& f, const answer_context& ctx);

/// "Basic base64(user:password)" from the Authorization header, decoded.
std::optional<std::pair<std::string, std::string>> basic_credentials(
    const carriers::header_list& headers);
/// Authorization is exactly "Bearer <token>" (token non-empty).
bool bearer_is(const carriers::header_list& headers, std::string_view token);
/// The Content-Type's media type, lower case, without parameters ("" when absent).
std::string media_type(const carriers::header_list& headers);
/// The path segment between `prefix` and `suffix`, percent-decoded; nullopt when `path` is
/// not prefix + one segment + suffix.
std::optional<std::string> middle_segment(std::string_view path, std::string_view prefix,
                                          std::string_view suffix);

/// '+' and 8 to 15 digits, the first not 0.
bool plausible_e164(std::string_view s) noexcept;
/// The same without the '+' (Vonage, Plivo).
bool plausible_msisdn(std::string_view s) noexcept;

/// A JSON reply.
reply json_reply(int status, const boost::json::value& body, outcome result);
/// f.status when set, else `usual`.
int status_of(const fault& f, int usual) noexcept;
/// Adds Retry-After: f.retry_after when it is not empty.
void add_retry_after(reply& r, const fault& f);

/// Lower-case hex of `v`, exactly `width` digits (width <= 16).
std::string hex(std::uint64_t v, std::size_t width);
/// A version-4-shaped UUID from a fresh id.
std::string uuid(id_source& ids);
/// RFC 3339 UTC with milliseconds ("2026-11-29T05:40:00.123Z").
std::string rfc3339_ms(std::chrono::system_clock::time_point t);

}  // namespace stopgate::fake_carrier::dialect
