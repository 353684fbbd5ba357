// Serialises socket API responses, one line each, by appending to a reused buffer:
//   {"id":ID,"ok":true,...fields}\n   and   {"id":ID,"ok":false,"error":{"code":..,"message":..}}\n
// ID is the request's raw id text, echoed byte for byte. Pure functions; thread-safe.
#pragma once

#include "gateway/api/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>

#include <string>
#include <string_view>

namespace stopgate::gateway::api {

/// Appends a success line. `fields` must not contain "id" or "ok". `sr` is a reused serializer.
void append_ok(std::string& out, std::string_view id, const boost::json::object& fields,
               boost::json::serializer& sr);

/// Appends a success line whose fields are already JSON text: `members` as they follow
/// "ok":true (`"k":v,...`, no braces, no leading comma; may be empty).
void append_ok_text(std::string& out, std::string_view id, std::string_view members);

/// Appends an error line with the code's wire name and `message`.
void append_error(std::string& out, std::string_view id, api_errc code, std::string_view message);

/// Appends `s` as a JSON string literal, escaped exactly as Boost.JSON's serializer does
/// (\" \\ \b \t \n \f \r, other bytes below 0x20 as \u00xx; bytes >= 0x80 pass through).
void append_json_string(std::string& out, std::string_view s);

}  // namespace stopgate::gateway::api
