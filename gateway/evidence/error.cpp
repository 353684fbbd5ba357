#include "gateway/evidence/error.hpp"

#include <string>

namespace stopgate::evidence {

namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.evidence"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::closed: return "evidence log is closed";
      case errc::failed: return "evidence log failed earlier (write or fdatasync error)";
      case errc::unsupported_value:
        return "evidence field holds a floating-point number or non-UTF-8 text";
      case errc::reserved_field: return "evidence field name is reserved";
      case errc::bad_options: return "evidence options are invalid";
      case errc::chain_broken: return "evidence hash chain is broken";
      case errc::checkpoint_mismatch: return "evidence checkpoint HMAC does not match";
      case errc::bad_record: return "malformed evidence record";
      case errc::missing_anchor: return "evidence chain has no retention anchor for its start";
      case errc::decrypt_failed: return "evidence field could not be decrypted";
      case errc::bad_key: return "evidence key is missing or malformed";
      case errc::not_found: return "no evidence segments found";
      case errc::too_large: return "evidence record exceeds max_record_bytes";
      case errc::bad_batch: return "evidence batch is empty, too long or refers forward";
    }
    return "unknown evidence error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace stopgate::evidence
