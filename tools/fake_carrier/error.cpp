#include "tools/fake_carrier/error.hpp"

#include <string>

namespace stopgate::fake_carrier {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.fake_carrier"; }
  std::string message(int ev) const override {
    switch (static_cast<fake_errc>(ev)) {
      case fake_errc::bad_json: return "not valid JSON of the expected shape";
      case fake_errc::unknown_key: return "unknown key";
      case fake_errc::bad_value: return "bad value";
      case fake_errc::unknown_carrier: return "unknown carrier";
      case fake_errc::unknown_fault: return "unknown fault kind";
    }
    return "unknown fake carrier error";
  }
};

}  // namespace

const boost::system::error_category& fake_category() noexcept {
  static const category_impl cat;
  return cat;
}

}  // namespace stopgate::fake_carrier
