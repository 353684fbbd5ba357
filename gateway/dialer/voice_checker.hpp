// The seam between the dialer protocols and the gateway: "may this number be called now?".
//
// The FastAGI server, the SIP gate and the HTTP check build a voice_check from what the dialer
// sent and await a voice_answer; the gateway implements voice_checker with a committed `check`
// op (gateway/dialer_checker.cpp), so that every answer is written to the evidence log with the
// call's reference. This library knows nothing of the ops behind it.
#pragma once

#include "config/dialer_settings.hpp"
#include "config/settings.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::dialer {

/// Which dialer interface asked.
enum class check_source : std::uint8_t { fastagi, sip, http };
std::string_view to_string(check_source s) noexcept;

/// One call about to be placed.
struct voice_check {
  std::string to;        // the number as dialled (the check normalises it)
  std::string sender;    // a [senders.NAME]; "" = the only configured sender
  std::string campaign;  // for frequency caps; "" = none
  config::purpose call_purpose = config::purpose::marketing;
  config::voice_tech tech = config::voice_tech::atds;
  std::string ref;  // the channel's uniqueid (FastAGI) or the Call-ID (SIP)
  check_source source = check_source::sip;
  /// The event loop the check runs on (the index of its io_context in the servers' list): the
  /// check uses that worker's connections and contact store. Set by the server.
  unsigned worker = 0;
};

enum class decision : std::uint8_t { allow, deny, defer };
std::string_view to_string(decision d) noexcept;

/// The committed decision about one call.
struct voice_answer {
  decision outcome = decision::deny;
  std::vector<std::string> reasons;  // every reason found (SPEC section 5 codes)
  std::optional<std::chrono::system_clock::time_point> retry_at;  // defer only
  std::string retry_at_text;  // RFC 3339, as the check answered it ("" when none)
  std::string to;             // the number in E.164 when it parsed, else as given
  std::string evidence_id;    // the decision's evidence record ("" when none was written)
  /// No decision could be made or recorded (store or evidence log unreachable, timeout, bad
  /// request): the answer is a deny and the call must not be placed.
  bool fail_closed = false;

  /// A fail-closed deny with one reason (e.g. "store_unavailable", "check_timeout").
  static voice_answer failed(std::string reason);
};

class voice_checker {
 public:
  virtual ~voice_checker() = default;
  /// Checks and commits one call. Runs on the caller's executor (a gateway worker thread);
  /// never throws for a bad request or an unreachable store: those come back as fail-closed
  /// denies. Thread-safe.
  virtual boost::asio::awaitable<voice_answer> async_check(const voice_check& q) = 0;
};

}  // namespace stopgate::gateway::dialer
