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

admitted admit(const dispatcher& d, std::string_view op, const boost::json::object& req,
               std::uint8_t roles) {
  admitted a;
  a.spec = d.find_op(op);
  if (a.spec && a.spec->def)
    if (auto unknown = unknown_field(*a.spec->def, req)) {
      a.error = {api_errc::bad_request, std::move(*unknown)};
      return a;
    }
  if (op == "ping") {
    a.what = admission::ping;
    return a;
  }
  if (op == "auth") {
    a.what = admission::auth;
    return a;
  }
  if (!a.spec) {
    a.error = {api_errc::unknown_op, "unknown op: " + std::string(op.substr(0, 64))};
    return a;
  }
  if (a.spec->role && !(roles & std::uint8_t(*a.spec->role))) {
    a.error = {api_errc::forbidden,
               "op " + std::string(op) + " needs role " + std::string(to_string(*a.spec->role))};
    return a;
  }
  a.what = admission::run;
  return a;
}

}  // namespace stopgate::gateway::api
