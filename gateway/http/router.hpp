// The HTTP route table: which route a (method, path) goes to, or why none does.
//
// Built-in routes match their path exactly; hook routes (add_route) match a path prefix, the
// longest prefix winning. A path that some route matches under another method gets 405 with
// the methods that would work. Filled before the server starts, then read-only (thread-safe
// to read from any thread).
#pragma once

#include "gateway/http/error.hpp"
#include "gateway/http/message.hpp"

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::http {

enum class route_kind { healthz, readyz, metrics, ops, check, hook };

struct route {
  beast_http::verb method = beast_http::verb::get;
  std::string path;  // exact path (built-ins) or prefix (hooks)
  route_kind kind = route_kind::hook;
  route_handler handler;  // hooks only
};

struct route_match {
  enum class outcome { found, not_found, method_not_allowed };
  outcome what = outcome::not_found;
  std::size_t index = 0;  // found: the route's index (also its counter slot)
  std::string allow;      // method_not_allowed: "GET, POST"
};

class router {
 public:
  /// Adds a built-in route (exact path).
  boost::system::error_code add_builtin(beast_http::verb method, std::string path, route_kind kind);
  /// Adds a hook route matching every path that starts with `prefix`.
  boost::system::error_code add_hook(beast_http::verb method, std::string prefix, route_handler h);

  route_match find(beast_http::verb method, std::string_view path) const;
  const route& at(std::size_t index) const { return routes_[index]; }
  std::size_t size() const noexcept { return routes_.size(); }
  /// The label of each route for metrics (its path or prefix), by index.
  std::vector<std::string> labels() const;

 private:
  bool matches(const route& r, std::string_view path) const noexcept;
  std::vector<route> routes_;
};

}  // namespace stopgate::gateway::http
