// Building responses (RFC 3261 8.2.6): the headers copied from the request, the status line
// and what the gate adds (Contact, Reason, Retry-After, Unsupported, Allow), and where a
// response goes (18.2.2 with RFC 3581 rport). Pure.
#pragma once

#include "gateway/dialer/sip/message.hpp"
#include "gateway/dialer/sip/peer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::gateway::dialer::sip {

/// Via (every value, in order; the top one with received= and rport= filled in as 18.2.1 and
/// RFC 3581 say), From, To (with `to_tag` added when the request's To has none), Call-ID and
/// CSeq, each ending in CRLF.
std::string echo_headers(const message& req, const peer& from, std::string_view to_tag);

struct response_extras {
  std::string_view contact;  // Contact value, e.g. "<sip:+14155550100@trunk.example.com>"
  std::string_view reason;   // Reason value (RFC 3326)
  std::optional<std::uint32_t> retry_after;  // seconds
  std::string_view unsupported;              // Unsupported value (420)
  bool allow = false;                        // add "Allow: INVITE, ACK, CANCEL, OPTIONS"
};

/// A whole response: "SIP/2.0 STATUS PHRASE", the echoed headers, the extras, a Server header
/// and "Content-Length: 0".
std::string render_response(int status, std::string_view phrase, std::string_view echo,
                            const response_extras& extras = {});

/// Where the response to a request that arrived from `from` with top Via `top` goes: the same
/// connection for TCP; for UDP the source address, at the rport (the source port) when the
/// request asked for it, else at the Via's port (5060 when absent).
peer response_destination(const via_value& top, const peer& from);

/// The RFC 3261 / RFC 8688 reason phrase of a status code ("" for one the gate never sends).
std::string_view standard_phrase(int status) noexcept;

}  // namespace stopgate::gateway::dialer::sip
