// The called number of an INVITE's Request-URI (RFC 3261 19.1, RFC 3966): the user part of a
// sip:/sips: URI or the subscriber of a tel: URI, percent-decoded, without its parameters and
// visual separators, with a configured dialling prefix removed. Pure.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace stopgate::gateway::dialer::sip {

enum class uri_scheme { sip, sips, tel, other };

/// The scheme of a URI (case-insensitive).
uri_scheme scheme_of(std::string_view uri) noexcept;

struct dialed {
  std::string_view user;  // the user part (or tel subscriber) as written, parameters included
  std::string number;     // decoded, separators and the prefix removed: what the check gets
};

/// The dialled number, or an empty `number` when the URI has no user part or the user part is
/// not a telephone number (digits, '+', '*', '#' and visual separators only).
dialed dialed_number(std::string_view uri, std::span<const std::string> strip_prefixes);

}  // namespace stopgate::gateway::dialer::sip
