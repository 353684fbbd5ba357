#include "gateway/api/error.hpp"

#include <string>

namespace stopgate::gateway::api {

std::string_view to_string(api_errc e) noexcept {
  switch (e) {
    case api_errc::bad_json: return "bad_json";
    case api_errc::bad_request: return "bad_request";
    case api_errc::line_too_long: return "line_too_long";
    case api_errc::unauthenticated: return "unauthenticated";
    case api_errc::forbidden: return "forbidden";
    case api_errc::invalid_number: return "invalid_number";
    case api_errc::unknown_op: return "unknown_op";
    case api_errc::batch_too_large: return "batch_too_large";
    case api_errc::overloaded: return "overloaded";
    case api_errc::store_unavailable: return "store_unavailable";
    case api_errc::internal: return "internal";
  }
  return "unknown";
}

namespace {
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.api"; }
  std::string message(int ev) const override { return std::string(to_string(api_errc(ev))); }
};
}  // namespace

const boost::system::error_category& api_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace stopgate::gateway::api
