// Webhook-side helpers shared by the adapters' parse_inbound / parse_status: reading form,
// query and JSON bodies into fields with the checks every carrier needs (presence, no
// duplicates, bounded length). Numbers are kept as sent: the gateway reads them with the
// carrier's settings (gateway/webhooks/carrier_number.hpp). Text is kept byte for byte, UTF-8
// or not (JSON strings too): the gateway records what is not UTF-8 losslessly. Pure and
// thread-safe.
#pragma once

#include "carriers/wire/types.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::carriers::wire {

using param_list = std::vector<std::pair<std::string, std::string>>;

/// The parameters of a form webhook: the urlencoded body when there is one (its content type
/// must be application/x-www-form-urlencoded or absent), otherwise the query string (GET
/// webhooks).
boost::system::result<param_list> form_params(std::string_view content_type,
                                              std::string_view body, std::string_view query);

/// Like form_params, but a JSON object body (content type application/json, read as
/// json_body does) is accepted too: its top-level strings and integers become the parameters
/// (Vonage "POST-JSON" webhooks).
boost::system::result<param_list> form_or_json_params(std::string_view content_type,
                                                      std::string_view body,
                                                      std::string_view query);

/// The value of `name`: `if_missing` when absent or empty, duplicate_field when it appears
/// twice, field_too_long past max_field_bytes.
boost::system::result<std::string> required_param(const param_list& params,
                                                  std::string_view name, wire_errc if_missing);
/// Like required_param, but absent is "" (duplicates and length are still errors).
boost::system::result<std::string> optional_param(const param_list& params,
                                                  std::string_view name);

/// A JSON webhook body: the content type must be application/json (or +json, or absent).
/// Strings may hold bytes that are not UTF-8 (kept as they are); the JSON must be valid
/// otherwise.
boost::system::result<boost::json::value> json_body(std::string_view content_type,
                                                    std::string_view body);

/// The string (or integer, as decimal) at `v`: `if_missing` when absent, null or empty,
/// malformed_body for another JSON type, field_too_long past max_field_bytes.
boost::system::result<std::string> required_text(const boost::json::value* v,
                                                 wire_errc if_missing);
/// Like required_text, but absent or null is "".
boost::system::result<std::string> optional_text(const boost::json::value* v);

/// True when `s` is within max_field_bytes.
constexpr bool field_fits(std::string_view s) noexcept { return s.size() <= max_field_bytes; }

}  // namespace stopgate::carriers::wire
