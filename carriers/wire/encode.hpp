// Request-side helpers shared by the adapters' build_send: urlencoding, JSON text, auth
// header values, URL joining and number spelling. Pure and thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace stopgate::carriers::wire {

/// Appends "name=value" in application/x-www-form-urlencoded form (RFC 1866 / WHATWG:
/// unreserved bytes as is, space as '+', everything else %XX upper case), with a '&' first
/// when `out` is not empty.
void append_form_field(std::string& out, std::string_view name, std::string_view value);

/// Percent-encodes one URL path segment (everything but RFC 3986 unreserved bytes).
std::string encode_path_segment(std::string_view segment);

/// base_url (any trailing '/' dropped) + path (which starts with '/').
std::string join_url(std::string_view base_url, std::string_view path);

/// "Basic " + base64(user ":" password).
std::string basic_auth(std::string_view user, std::string_view password);
/// "Bearer " + token.
std::string bearer_auth(std::string_view token);

/// The number without a leading '+' (Vonage, Plivo want "14155552671"). Other spellings
/// (short codes, alphanumeric senders) come back unchanged.
std::string_view without_plus(std::string_view number) noexcept;

/// Compact JSON text of an object: keys in insertion order, strings escaped per RFC 8259.
std::string json_text(const boost::json::object& obj);

}  // namespace stopgate::carriers::wire
