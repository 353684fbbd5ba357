// The SIP gate's decisions as pure functions: which check an INVITE asks for (its sender from
// a configured header or its source address, its number from the Request-URI), and which final
// response a check's answer becomes:
//
//   allow              -> 302 Moved Temporarily, Contact: <sip:NUMBER@TRUNK>
//   deny (fail-closed) -> 608 Rejected (RFC 8688) or 603 Decline, Reason: SIP;cause=608;text="..."
//   defer              -> 480 Temporarily Unavailable, Retry-After: SECONDS, Reason: ...
#pragma once

#include "config/dialer_settings.hpp"
#include "gateway/dialer/sip/message.hpp"
#include "gateway/dialer/sip/peer.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace stopgate::gateway::dialer::sip {

/// The check an INVITE asks for, and what its 302 needs.
struct invite_plan {
  voice_check check;
  std::string trunk;  // the sender's trunk URI
  config::dialer_sip_sender::contact_number number =
      config::dialer_sip_sender::contact_number::dialed;
  std::string dialed_user;  // the Request-URI's user part as written
};

/// An INVITE answered without a check.
struct refusal {
  int status = 403;
  std::string reason_text;  // for the Reason header; "" for none
  std::string unsupported;  // 420 only
};

/// Plans an INVITE that parsed. Refusals: 416 for a URI scheme other than sip, sips or tel;
/// 420 for a Require header (the gate supports no extension); 483 for Max-Forwards: 0; 403
/// (`unknown_sender`, `source_not_allowed`) when no sender table row matches; 484 (`no_number`)
/// when the Request-URI holds no telephone number.
std::variant<invite_plan, refusal> plan_invite(const message& invite, const peer& from,
                                               const config::dialer_sip_settings& s);

struct final_response {
  int status = 0;
  std::string contact;  // "" unless 302
  std::string reason;   // Reason header value; "" for none
  std::optional<std::uint32_t> retry_after;
};

/// The final response for a check's answer. `now` is the wall clock the Retry-After counts from.
final_response map_answer(const voice_answer& a, const invite_plan& plan,
                          const config::dialer_sip_settings& s,
                          std::chrono::system_clock::time_point now);

/// A Reason header value: SIP;cause=STATUS;text="a,b" (RFC 3326).
std::string reason_value(int status, std::string_view text);

}  // namespace stopgate::gateway::dialer::sip
