#include "carriers/bandwidth/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::carriers::bandwidth {

using boost::system::result;
namespace json = boost::json;

namespace {

result<json::value> event_array(std::string_view content_type, std::string_view body) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  if (!root->is_array() || root->get_array().size() > max_events)
    return make_error_code(wire_errc::malformed_body);
  return root;
}

// The event's own "to" (the number this copy belongs to), else the message's first "to".
result<std::string> event_to(const json::value& ev, const json::value* msg) {
  auto to = wire::optional_text(wire::member(&ev, "to"));
  if (!to || !to->empty()) return to;
  return wire::optional_text(wire::element(wire::member(msg, "to"), 0));
}

result<inbound_message> inbound_from(const json::value& ev) {
  const json::value* msg = wire::member(&ev, "message");
  auto id = wire::required_text(wire::member(msg, "id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_text(wire::member(msg, "from"), wire_errc::missing_from);
  if (!from) return from.error();
  auto to = event_to(ev, msg);
  if (!to) return to.error();
  if (to->empty()) return make_error_code(wire_errc::missing_to);
  auto text = wire::optional_text(wire::member(msg, "text"));
  if (!text) return text.error();
  return inbound_message{"bandwidth",    std::move(*id),   std::move(*from),
                         std::move(*to), std::move(*text), {}};
}

failure_class failure_for(std::string_view code) noexcept {
  // 4775 user opt-out at the carrier; 4482 recipient on the blocklist (carriers.md 3.4).
  if (code == "4775" || code == "4482") return failure_class::recipient_opted_out;
  // 51xx/52xx Bandwidth service errors, 56xx carrier service failures: transient.
  if (code.size() == 4 && (code.starts_with("51") || code.starts_with("52") ||
                           code.starts_with("56")))
    return failure_class::retryable;
  return failure_class::permanent;
}

result<status_update> status_from(const json::value& ev, std::string_view type) {
  const json::value* msg = wire::member(&ev, "message");
  auto id = wire::required_text(wire::member(msg, "id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto to = event_to(ev, msg);
  if (!to) return to.error();
  auto from = wire::optional_text(wire::member(msg, "from"));
  if (!from) return from.error();
  auto code = wire::optional_text(wire::member(&ev, "errorCode"));
  if (!code) return code.error();
  status_update u;
  u.carrier = "bandwidth";
  u.carrier_message_id = std::move(*id);
  u.status = std::string(normalise_status(type));
  u.raw_status = std::string(type);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  u.from = std::move(*from);
  if (u.status == status::failed) u.failure = failure_for(u.error_code);
  return u;
}

}  // namespace

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::bandwidth_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(
      s.base_url, "/api/v2/users/" + wire::encode_path_segment(c.account_id) + "/messages");
  call.headers.emplace_back("Authorization",
                            c.token.empty() ? wire::basic_auth(c.username, c.password.reveal())
                                            : wire::bearer_auth(c.token.reveal()));
  call.content_type = "application/json; charset=utf-8";
  json::object o;
  o["applicationId"] = c.application_id;
  o["to"] = json::array{json::string(msg.to)};
  o["from"] = msg.from;
  o["text"] = msg.body;
  o["tag"] = msg.message_id;
  call.body = wire::json_text(o);
  return call;
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  if (!json) return wire::unreadable_response(status, body, headers, now);
  const json::value* root = &*json;
  if (wire::is_success(status)) {
    auto id = wire::scalar_text(wire::member(root, "id"));
    if (!id || id->empty()) return wire::unreadable_response(status, body, headers, now);
    send_outcome out;
    out.accepted = true;
    out.carrier_message_id = std::move(*id);
    return out;
  }
  std::string type = wire::scalar_text(wire::member(root, "type")).value_or("");
  std::string description = wire::scalar_text(wire::member(root, "description")).value_or("");
  send_outcome out =
      wire::failed(wire::class_for_status(status), type.empty() ? wire::http_code(status) : type,
                   description.empty() ? wire::raw_snippet(body) : description);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<std::vector<inbound_message>> parse_inbound_events(std::string_view content_type,
                                                          std::string_view body) {
  auto root = event_array(content_type, body);
  if (!root) return root.error();
  std::vector<inbound_message> out;
  for (const auto& ev : root->get_array()) {
    auto type = wire::scalar_text(wire::member(&ev, "type"));
    if (!type) return make_error_code(wire_errc::malformed_body);
    if (*type != "message-received") continue;
    auto m = inbound_from(ev);
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  if (out.empty()) return make_error_code(wire_errc::ignored_event);
  return out;
}

result<std::vector<status_update>> parse_status_events(std::string_view content_type,
                                                       std::string_view body) {
  auto root = event_array(content_type, body);
  if (!root) return root.error();
  std::vector<status_update> out;
  for (const auto& ev : root->get_array()) {
    auto type = wire::scalar_text(wire::member(&ev, "type"));
    if (!type) return make_error_code(wire_errc::malformed_body);
    if (*type != "message-delivered" && *type != "message-failed" && *type != "message-sending")
      continue;
    auto u = status_from(ev, *type);
    if (!u) return u.error();
    out.push_back(std::move(*u));
  }
  if (out.empty()) return make_error_code(wire_errc::ignored_event);
  return out;
}

std::string_view normalise_status(std::string_view event_type) noexcept {
  if (event_type == "message-sending") return status::sending;
  if (event_type == "message-delivered") return status::delivered;
  if (event_type == "message-failed") return status::failed;
  return status::unknown;
}

}  // namespace stopgate::carriers::bandwidth
