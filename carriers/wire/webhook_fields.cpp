#include "carriers/wire/webhook_fields.hpp"

#include "carriers/signature/webhook_request.hpp"
#include "carriers/wire/response.hpp"

namespace stopgate::carriers::wire {
namespace {

std::string_view media_type(std::string_view content_type) noexcept {
  std::string_view m = content_type.substr(0, content_type.find(';'));
  while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) m.remove_prefix(1);
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.remove_suffix(1);
  return m;
}

bool is_json_type(std::string_view content_type) noexcept {
  std::string_view m = media_type(content_type);
  if (m.empty() || signature::iequals(m, "application/json")) return true;
  return m.size() > 5 && signature::iequals(m.substr(m.size() - 5), "+json");
}

boost::system::result<std::string> find_param(const param_list& params, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : params) {
    if (k != name) continue;
    if (found != nullptr) return make_error_code(wire_errc::duplicate_field);
    found = &v;
  }
  if (found == nullptr) return std::string();
  if (!field_fits(*found)) return make_error_code(wire_errc::field_too_long);
  return *found;
}

}  // namespace

boost::system::result<param_list> form_params(std::string_view content_type,
                                              std::string_view body, std::string_view query) {
  std::string_view text = query;
  if (!body.empty()) {
    if (!media_type(content_type).empty() && !signature::is_form_content_type(content_type))
      return make_error_code(wire_errc::bad_content_type);
    text = body;
  }
  auto params = signature::parse_form(text);
  if (!params) return make_error_code(wire_errc::malformed_body);
  return std::move(*params);
}

boost::system::result<param_list> form_or_json_params(std::string_view content_type,
                                                      std::string_view body,
                                                      std::string_view query) {
  std::string_view m = media_type(content_type);
  if (body.empty() || m.empty() || !is_json_type(content_type))
    return form_params(content_type, body, query);
  auto root = parse_json(body);
  if (!root || !root->is_object() || root->get_object().size() > signature::max_params)
    return make_error_code(wire_errc::malformed_body);
  param_list out;
  for (const auto& kv : root->get_object())
    if (auto text = scalar_text(&kv.value())) out.emplace_back(kv.key(), std::move(*text));
  return out;
}

boost::system::result<std::string> required_param(const param_list& params,
                                                  std::string_view name, wire_errc if_missing) {
  auto v = find_param(params, name);
  if (v && v->empty()) return make_error_code(if_missing);
  return v;
}

boost::system::result<std::string> optional_param(const param_list& params,
                                                  std::string_view name) {
  return find_param(params, name);
}

boost::system::result<boost::json::value> json_body(std::string_view content_type,
                                                    std::string_view body) {
  if (!is_json_type(content_type)) return make_error_code(wire_errc::bad_content_type);
  auto v = parse_json(body);
  if (!v) return make_error_code(wire_errc::malformed_body);
  return std::move(*v);
}

boost::system::result<std::string> optional_text(const boost::json::value* v) {
  if (v == nullptr || v->is_null()) return std::string();
  auto text = scalar_text(v);
  if (!text) return make_error_code(wire_errc::malformed_body);
  if (!field_fits(*text)) return make_error_code(wire_errc::field_too_long);
  return std::move(*text);
}

boost::system::result<std::string> required_text(const boost::json::value* v,
                                                 wire_errc if_missing) {
  auto text = optional_text(v);
  if (text && text->empty()) return make_error_code(if_missing);
  return text;
}

std::string to_e164(std::string_view number) {
  bool all_digits = !number.empty();
  for (char c : number) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits && number.size() >= 7 && number.size() <= 15 && number.front() != '0')
    return "+" + std::string(number);
  return std::string(number);
}

}  // namespace stopgate::carriers::wire
