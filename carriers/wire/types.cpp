#include "carriers/wire/types.hpp"

#include <string>

namespace stopgate::carriers {
namespace {

class wire_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.carrier_wire"; }
  std::string message(int ev) const override {
    switch (static_cast<wire_errc>(ev)) {
      case wire_errc::bad_content_type: return "unexpected content type for this webhook";
      case wire_errc::malformed_body: return "malformed webhook body";
      case wire_errc::duplicate_field: return "a field appears more than once";
      case wire_errc::missing_message_id: return "missing carrier message id";
      case wire_errc::missing_from: return "missing sender number";
      case wire_errc::missing_to: return "missing recipient number";
      case wire_errc::missing_status: return "missing delivery status";
      case wire_errc::field_too_long: return "a field is too long";
      case wire_errc::ignored_event: return "event not handled by this webhook";
    }
    return "unknown carrier wire error";
  }
};

}  // namespace

const boost::system::error_category& wire_category() noexcept {
  static const wire_category_impl instance;
  return instance;
}

}  // namespace stopgate::carriers
