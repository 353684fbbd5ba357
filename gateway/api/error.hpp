// The socket API's error codes (SPEC section 3), as one closed enum with an error category.
//
// Every error response carries one of these codes in `error.code` (to_string gives the wire
// name). Transport errors (framing, JSON, auth, roles) are produced by the socket API itself;
// op handlers return the rest (invalid_number, batch_too_large, overloaded, ...).
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace stopgate::gateway::api {

enum class api_errc {
  bad_json = 1,       // the line is not JSON, or not a JSON object
  bad_request,        // a missing or invalid field; the message names it
  line_too_long,      // the line is longer than api.max_line_bytes
  unauthenticated,    // no (valid) `auth` before the first request; the connection closes
  forbidden,          // the key lacks the role the op needs
  invalid_number,     // a number that cannot be parsed
  unknown_op,         // an op the gateway does not implement
  batch_too_large,    // more than api.max_batch numbers
  overloaded,         // a bounded queue is full; retry later
  store_unavailable,  // Redis or a required list is unavailable (fail closed)
  internal,           // a bug: the handler threw; logged once
};
inline constexpr int api_errc_count = int(api_errc::internal) + 1;  // index 0 unused

/// The wire name ("bad_json", ...). "unknown" for values outside the enum.
std::string_view to_string(api_errc e) noexcept;

const boost::system::error_category& api_category() noexcept;
inline boost::system::error_code make_error_code(api_errc e) noexcept {
  return {static_cast<int>(e), api_category()};
}

}  // namespace stopgate::gateway::api

template <>
struct boost::system::is_error_code_enum<stopgate::gateway::api::api_errc> : std::true_type {};
