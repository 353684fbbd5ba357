#include "gateway/api/dispatcher.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <array>
#include <utility>

namespace stopgate::gateway::api {

void throw_exception_from_error(const op_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(make_error_code(e.code), e.message), loc);
}

std::optional<op_spec> standard_op_spec(std::string_view op) noexcept {
  using config::role;
  static constexpr std::array<std::pair<std::string_view, std::optional<role>>, 11> table{{
      {"ping", std::nullopt},
      {"auth", std::nullopt},
      {"check", role::check},
      {"lookup", role::check},
      {"send", role::send},
      {"consent", role::consent},
      {"optout", role::consent},
      {"optin", role::consent},
      {"forget", role::admin},
      {"reload", role::admin},
      {"stats", role::admin},
  }};
  for (const auto& [name, r] : table) {
    if (name == op) return op_spec{r};
  }
  return std::nullopt;
}

std::string_view to_string(config::role r) noexcept {
  switch (r) {
    case config::role::check: return "check";
    case config::role::send: return "send";
    case config::role::consent: return "consent";
    case config::role::admin: return "admin";
  }
  return "unknown";
}

}  // namespace stopgate::gateway::api
