#include "carriers/dialect.hpp"

namespace stopgate::carriers {

// Each defined in carriers/NAME/dialect.cpp.
namespace twilio { extern const dialect dialect_row; }
namespace telnyx { extern const dialect dialect_row; }
namespace bandwidth { extern const dialect dialect_row; }
namespace vonage { extern const dialect dialect_row; }
namespace plivo { extern const dialect dialect_row; }
namespace sinch { extern const dialect dialect_row; }
namespace generic { extern const dialect dialect_row; }
namespace sandbox { extern const dialect dialect_row; }

const dialect& dialect_of(config::carrier_type type) noexcept {
  static const dialect* const rows[] = {&twilio::dialect_row, &telnyx::dialect_row, &bandwidth::dialect_row,
                                        &vonage::dialect_row, &plivo::dialect_row,  &sinch::dialect_row,
                                        &generic::dialect_row, &sandbox::dialect_row};
  for (const dialect* r : rows)
    if (r->type == type) return *r;
  return sandbox::dialect_row;  // not reached: every type has a row (tests/carriers/dialect_test.cpp)
}

}  // namespace stopgate::carriers
