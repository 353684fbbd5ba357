#include "gateway/http/webhook.hpp"

#include "carriers/signature/verify.hpp"

#include <boost/beast/http/field.hpp>

namespace stopgate::gateway::http {

std::string signed_url(const request& req) {
  if (!req.public_url.empty()) return req.public_url;
  std::string url = "http://";
  if (req.settings && req.settings->http.listen) url += req.settings->http.listen->to_string();
  url.append(req.target);
  return url;
}

carriers::signature::webhook_request to_webhook_request(const request& req) {
  carriers::signature::webhook_request w;
  w.method = std::string(beast_http::to_string(req.method));
  w.url = signed_url(req);
  if (req.fields)
    for (const auto& f : *req.fields) w.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  w.body = std::string(req.body);
  w.content_type = std::string(req.header("content-type"));
  return w;
}

std::string_view carrier_from_path(std::string_view path, std::string_view prefix) noexcept {
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return {};
  auto rest = path.substr(prefix.size());
  if (rest.find('/') != std::string_view::npos) return {};
  return rest;
}

webhook_front verify_front(const request& req, const config::settings& s, std::string_view prefix,
                           std::chrono::system_clock::time_point now) {
  webhook_front f;
  const auto name = carrier_from_path(req.path, prefix);
  const auto* c = name.empty() ? nullptr : s.carrier(name);
  if (!c) {
    // A config name never holds parentheses.
    f.label = "(unknown)";
    f.why = "no carrier of that name";
    return f;
  }
  f.label = c->name;
  f.request = to_webhook_request(req);
  const auto v = carriers::signature::verify_webhook(
      *c, f.request, now, req.loopback, std::chrono::seconds(s.http.replay_window_s));
  if (!v) {
    f.why = v.error.message();
    return f;
  }
  f.carrier = c;
  return f;
}

response webhook_refused() {
  return response::json_error(403, "forbidden", "bad or missing webhook signature");
}

}  // namespace stopgate::gateway::http
