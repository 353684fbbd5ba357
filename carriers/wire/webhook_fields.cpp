#include "carriers/wire/webhook_fields.hpp"

#include "carriers/signature/webhook_request.hpp"
#include "carriers/wire/response.hpp"

#include <boost/json/parse.hpp>

#include <optional>

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

// A carrier's text need not be UTF-8 (a stray byte after STOP, a Latin-1 body): strings keep
// their bytes, so the message is recorded rather than refused.
std::optional<boost::json::value> parse_webhook_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  opts.allow_invalid_utf8 = true;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return std::nullopt;
  return v;
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
  auto root = parse_webhook_json(body);
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
  auto v = parse_webhook_json(body);
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

}  // namespace stopgate::carriers::wire
