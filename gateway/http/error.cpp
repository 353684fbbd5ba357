#include "gateway/http/error.hpp"

#include <string>

namespace stopgate::gateway::http {

namespace {
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.http"; }
  std::string message(int ev) const override {
    switch (http_errc(ev)) {
      case http_errc::too_many_routes: return "too many HTTP routes";
      case http_errc::already_started: return "routes must be added before the server starts";
      case http_errc::bad_route: return "a route needs a path prefix starting with '/' and a handler";
      case http_errc::route_taken: return "a route with this method and path prefix exists";
    }
    return "unknown HTTP server error";
  }
};
}  // namespace

const boost::system::error_category& http_category() noexcept {
  static const category c;
  return c;
}

}  // namespace stopgate::gateway::http
