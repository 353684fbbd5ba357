#include "carriers/generic/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/object.hpp>

#include <array>

namespace stopgate::carriers::generic {

using boost::system::result;
namespace json = boost::json;

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::http_credentials>();
  http_call call;
  call.method = "POST";
  call.url = c.url;
  for (const auto& [name, value] : c.headers) call.headers.emplace_back(name, value.reveal());
  call.content_type = "application/json";
  json::object o;
  o["to"] = msg.to;
  o["from"] = msg.from;
  o["body"] = msg.body;
  o["message_id"] = msg.message_id;
  if (!msg.status_callback_url.empty()) o["status_callback_url"] = msg.status_callback_url;
  call.body = wire::json_text(o);
  return call;
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  const json::value* root = json ? &*json : nullptr;
  if (wire::is_success(status)) {
    // The body is optional here: a bare 2xx means "taken".
    send_outcome out;
    out.accepted = true;
    auto id = wire::scalar_text(wire::member(root, "id"));
    if (!id) id = wire::scalar_text(wire::member(root, "message_id"));
    out.carrier_message_id = wire::bounded_message(id.value_or(""));
    out.carrier_status = wire::bounded_message(
        wire::scalar_text(wire::member(root, "status")).value_or(""));
    return out;
  }
  if (!root) return wire::unreadable_response(status, body, headers, now);
  const json::value* err = wire::member(root, "error");
  if (err == nullptr || !err->is_object()) err = root;
  std::string code = wire::scalar_text(wire::member(err, "code")).value_or("");
  std::string message = wire::scalar_text(wire::member(err, "message")).value_or("");
  failure_class fc = code == opted_out_code ? failure_class::recipient_opted_out
                                            : wire::class_for_status(status);
  send_outcome out = wire::failed(fc, code.empty() ? wire::http_code(status) : code,
                                  message.empty() ? wire::raw_snippet(body) : message);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<inbound_message> parse_inbound_as(std::string_view carrier, std::string_view content_type,
                                         std::string_view body) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  if (!root->is_object()) return make_error_code(wire_errc::malformed_body);
  const json::value* r = &*root;
  auto id = wire::required_text(wire::member(r, "message_id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_text(wire::member(r, "from"), wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_text(wire::member(r, "to"), wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_text(wire::member(r, "body"));
  if (!text) return text.error();
  auto intent = wire::optional_text(wire::member(r, "intent"));
  if (!intent) return intent.error();
  return inbound_message{std::string(carrier), std::move(*id),   std::move(*from),
                         std::move(*to),       std::move(*text), std::move(*intent)};
}

result<status_update> parse_status_as(std::string_view carrier, std::string_view content_type,
                                      std::string_view body) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  if (!root->is_object()) return make_error_code(wire_errc::malformed_body);
  const json::value* r = &*root;
  auto id = wire::required_text(wire::member(r, "message_id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto raw = wire::required_text(wire::member(r, "status"), wire_errc::missing_status);
  if (!raw) return raw.error();
  auto code = wire::optional_text(wire::member(r, "error_code"));
  if (!code) return code.error();
  auto to = wire::optional_text(wire::member(r, "to"));
  if (!to) return to.error();
  auto from = wire::optional_text(wire::member(r, "from"));
  if (!from) return from.error();

  status_update u;
  u.carrier = std::string(carrier);
  u.carrier_message_id = std::move(*id);
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  u.from = std::move(*from);
  if (u.status == status::failed || u.status == status::undelivered)
    u.failure = u.error_code == opted_out_code ? failure_class::recipient_opted_out
                                               : failure_class::permanent;
  return u;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view) {
  return parse_inbound_as("http", content_type, body);
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view) {
  return parse_status_as("http", content_type, body);
}

std::string_view normalise_status(std::string_view raw) noexcept {
  static constexpr std::array<std::string_view, 8> known = {
      status::queued, status::sending, status::sent,   status::delivered,
      status::read,   status::undelivered, status::failed, status::canceled};
  for (auto k : known)
    if (raw == k) return k;
  return status::unknown;
}

}  // namespace stopgate::carriers::generic
