#include "gateway/http/message.hpp"

#include "gateway/api/response_writer.hpp"

namespace stopgate::gateway::http {

std::string_view request::header(std::string_view name) const {
  if (!fields) return {};
  auto it = fields->find(name);
  if (it == fields->end()) return {};
  return it->value();
}

bool request::has_header(std::string_view name) const {
  return fields && fields->find(name) != fields->end();
}

response response::text(unsigned status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response response::json(unsigned status, std::string body) {
  response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

response response::json_error(unsigned status, std::string_view code, std::string_view message) {
  std::string body = "{\"ok\":false,\"error\":{\"code\":";
  api::append_json_string(body, code);
  body.append(",\"message\":");
  api::append_json_string(body, message);
  body.append("}}\n");
  return json(status, std::move(body));
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) noexcept {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

}  // namespace stopgate::gateway::http
