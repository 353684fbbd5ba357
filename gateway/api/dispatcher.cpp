#include "gateway/api/dispatcher.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>


namespace stopgate::gateway::api {

void throw_exception_from_error(const op_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(make_error_code(e.code), e.message), loc);
}

std::optional<op_spec> standard_op_spec(std::string_view op) noexcept {
  const op_def* def = find_op_def(op);
  if (!def) return std::nullopt;
  return op_spec{def->role, def};
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
