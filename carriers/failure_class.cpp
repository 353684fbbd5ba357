#include "carriers/failure_class.hpp"

namespace stopgate::carriers {

std::string_view to_string(failure_class c) noexcept {
  switch (c) {
    case failure_class::retryable: return "retryable";
    case failure_class::permanent: return "permanent";
    case failure_class::recipient_opted_out: return "recipient_opted_out";
  }
  return "unknown";
}

}  // namespace stopgate::carriers
