// Response-side helpers shared by the adapters' parse_send_response: classification by HTTP
// status, Retry-After, bounded error text and JSON access that never throws. Pure and
// thread-safe.
#pragma once

#include "carriers/wire/types.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::carriers::wire {

/// The value of the first header named `name` (case-insensitive), if any.
std::optional<std::string_view> find_header(const header_list& headers,
                                            std::string_view name) noexcept;

/// Retry-After: delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT",
/// IMF-fixdate only) relative to `now`. A date in the past is 0; values are capped at
/// max_retry_after. nullopt when unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

/// Plain decimal seconds (Telnyx x-ratelimit-reset), capped at max_retry_after.
std::optional<std::chrono::milliseconds> parse_delay_seconds(std::string_view value) noexcept;

/// The longest wait we accept from a carrier; beyond it the retry policy's own backoff rules.
inline constexpr std::chrono::milliseconds max_retry_after = std::chrono::hours(1);

/// 2xx.
constexpr bool is_success(int status) noexcept { return status >= 200 && status <= 299; }

/// 408, 429 and 5xx are retryable (the request was not, or may not have been, processed);
/// every other status is permanent.
failure_class class_for_status(int status) noexcept;

/// A failed outcome. `message` is cut to max_error_message bytes at a UTF-8 boundary.
send_outcome failed(failure_class c, std::string code, std::string_view message);

/// The outcome for a body we could not read: by status code (2xx: permanent "bad_response",
/// since we cannot prove the carrier did not take it and must not fail over), with a
/// sanitised snippet of the body as the message and Retry-After applied.
send_outcome unreadable_response(int status, std::string_view body, const header_list& headers,
                                 std::chrono::system_clock::time_point now);

/// Sets retry_after from Retry-After when the outcome is retryable.
void apply_retry_after(send_outcome& out, const header_list& headers,
                       std::chrono::system_clock::time_point now);

/// "http_429".
std::string http_code(int status);

/// At most max_error_message bytes of `text`, cut at a UTF-8 boundary.
std::string bounded_message(std::string_view text);

/// At most max_error_message bytes of a raw body with every byte that is not printable ASCII
/// replaced by '?' (safe to log and to put in JSON).
std::string raw_snippet(std::string_view body);

/// Parses JSON (UTF-8 validated, depth-limited). nullopt on any error; never throws.
std::optional<boost::json::value> parse_json(std::string_view text);

/// obj[key] when `v` is an object that has it, else nullptr.
const boost::json::value* member(const boost::json::value* v, std::string_view key) noexcept;
/// arr[i] when `v` is an array that long, else nullptr.
const boost::json::value* element(const boost::json::value* v, std::size_t i) noexcept;
/// A string, or an integer spelled in decimal; nullopt for anything else (or absent).
std::optional<std::string> scalar_text(const boost::json::value* v);

}  // namespace stopgate::carriers::wire
