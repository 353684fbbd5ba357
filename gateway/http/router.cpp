#include "gateway/http/router.hpp"

#include "gateway/http/counters.hpp"

namespace stopgate::gateway::http {

boost::system::error_code router::add_builtin(beast_http::verb method, std::string path, route_kind kind) {
  if (routes_.size() >= max_routes) return http_errc::too_many_routes;
  routes_.push_back({method, std::move(path), kind, {}});
  return {};
}

boost::system::error_code router::add_hook(beast_http::verb method, std::string prefix, route_handler h) {
  if (prefix.empty() || prefix.front() != '/' || !h) return http_errc::bad_route;
  if (routes_.size() >= max_routes) return http_errc::too_many_routes;
  for (const auto& r : routes_) {
    if (r.method == method && r.path == prefix) return http_errc::route_taken;
  }
  routes_.push_back({method, std::move(prefix), route_kind::hook, std::move(h)});
  return {};
}

bool router::matches(const route& r, std::string_view path) const noexcept {
  return r.kind == route_kind::hook ? path.starts_with(r.path) : path == r.path;
}

route_match router::find(beast_http::verb method, std::string_view path) const {
  route_match m;
  std::size_t best_length = 0;
  bool found = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const route& r = routes_[i];
    if (!matches(r, path)) continue;
    if (r.method != method) {
      std::string_view name = beast_http::to_string(r.method);
      // The same method may be listed by two overlapping prefixes; name it once.
      if (m.allow.find(name) == std::string::npos) {
        if (!m.allow.empty()) m.allow.append(", ");
        m.allow.append(name);
      }
      continue;
    }
    // Exact built-ins and longer prefixes are more specific.
    std::size_t length = r.kind == route_kind::hook ? r.path.size() : path.size() + 1;
    if (!found || length > best_length) {
      found = true;
      best_length = length;
      m.index = i;
    }
  }
  if (found) {
    m.what = route_match::outcome::found;
    m.allow.clear();
  } else if (!m.allow.empty()) {
    m.what = route_match::outcome::method_not_allowed;
  }
  return m;
}

std::vector<std::string> router::labels() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.path);
  return out;
}

}  // namespace stopgate::gateway::http
