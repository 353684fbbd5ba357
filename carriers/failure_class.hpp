// How a carrier failure is handled (SPEC section 9).
#pragma once
#include <string_view>

namespace stopgate::carriers {

enum class failure_class {
  retryable,            // timeouts, connection errors, 429, 5xx: back off and retry
  permanent,            // the request is wrong or the number cannot take it: do not retry
  recipient_opted_out,  // the carrier says the recipient opted out: record an opt-out
};

std::string_view to_string(failure_class c) noexcept;

}  // namespace stopgate::carriers
