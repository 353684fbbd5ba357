#include "gateway/dialer/voice_checker.hpp"

namespace stopgate::gateway::dialer {

std::string_view to_string(check_source s) noexcept {
  switch (s) {
    case check_source::fastagi:
      return "fastagi";
    case check_source::sip:
      return "sip";
    case check_source::http:
      return "http";
  }
  return "sip";
}

std::string_view to_string(decision d) noexcept {
  switch (d) {
    case decision::allow:
      return "allow";
    case decision::deny:
      return "deny";
    case decision::defer:
      return "defer";
  }
  return "deny";
}

voice_answer voice_answer::failed(std::string reason) {
  voice_answer a;
  a.outcome = decision::deny;
  a.reasons.push_back(std::move(reason));
  a.fail_closed = true;
  return a;
}

}  // namespace stopgate::gateway::dialer
