// Errors of the HTTP server's own API (route registration). Transport failures (address in
// use, bad certificate) are reported with the Asio/OpenSSL error codes as they are.
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::gateway::http {

enum class http_errc {
  too_many_routes = 1,  // more than max_routes routes (built-in ones included)
  already_started,      // add_route after start(): the route table is frozen by then
  bad_route,            // the path prefix does not start with '/' or the handler is empty
  route_taken,          // the same method and prefix are already registered
};

const boost::system::error_category& http_category() noexcept;
inline boost::system::error_code make_error_code(http_errc e) noexcept {
  return {static_cast<int>(e), http_category()};
}

}  // namespace stopgate::gateway::http

template <>
struct boost::system::is_error_code_enum<stopgate::gateway::http::http_errc> : std::true_type {};
