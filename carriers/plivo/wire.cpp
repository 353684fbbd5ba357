#include "carriers/plivo/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/object.hpp>

namespace stopgate::carriers::plivo {

using boost::system::result;
namespace json = boost::json;

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::plivo_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(
      s.base_url, "/v1/Account/" + wire::encode_path_segment(c.auth_id) + "/Message/");
  call.headers.emplace_back("Authorization", wire::basic_auth(c.auth_id, c.auth_token.reveal()));
  call.content_type = "application/json";
  json::object o;
  o["src"] = wire::without_plus(msg.from);
  o["dst"] = wire::without_plus(msg.to);
  o["text"] = msg.body;
  if (!msg.status_callback_url.empty()) o["url"] = msg.status_callback_url;
  call.body = wire::json_text(o);
  return call;
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  if (!json) return wire::unreadable_response(status, body, headers, now);
  const json::value* root = &*json;
  if (wire::is_success(status)) {
    auto id = wire::scalar_text(wire::element(wire::member(root, "message_uuid"), 0));
    if (!id || id->empty()) return wire::unreadable_response(status, body, headers, now);
    send_outcome out;
    out.accepted = true;
    out.carrier_message_id = std::move(*id);
    out.carrier_status = wire::scalar_text(wire::member(root, "message")).value_or("");
    return out;
  }
  std::string message = wire::scalar_text(wire::member(root, "error")).value_or("");
  send_outcome out = wire::failed(wire::class_for_status(status), wire::http_code(status),
                                  message.empty() ? wire::raw_snippet(body) : message);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view query) {
  auto params = wire::form_params(content_type, body, query);
  if (!params) return params.error();
  auto id = wire::required_param(*params, "MessageUUID", wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_param(*params, "From", wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_param(*params, "To", wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_param(*params, "Text");
  if (!text) return text.error();
  // SMS carry Text; MMS and WhatsApp carry Body.
  if (text->empty()) {
    text = wire::optional_param(*params, "Body");
    if (!text) return text.error();
  }
  auto intent = wire::optional_param(*params, "MessageIntent");
  if (!intent) return intent.error();
  return inbound_message{"plivo",        std::move(*id),   std::move(*from),
                         std::move(*to), std::move(*text), std::move(*intent)};
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view query) {
  auto params = wire::form_params(content_type, body, query);
  if (!params) return params.error();
  auto id = wire::required_param(*params, "MessageUUID", wire_errc::missing_message_id);
  if (!id) return id.error();
  auto raw = wire::required_param(*params, "Status", wire_errc::missing_status);
  if (!raw) return raw.error();
  auto code = wire::optional_param(*params, "ErrorCode");
  if (!code) return code.error();
  auto to = wire::optional_param(*params, "To");
  if (!to) return to.error();
  auto from = wire::optional_param(*params, "From");
  if (!from) return from.error();

  status_update u;
  u.carrier = "plivo";
  u.carrier_message_id = std::move(*id);
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  u.from = std::move(*from);
  if (u.status == status::failed || u.status == status::undelivered)
    // ErrorCode 200: the destination opted out (Plivo DND) of this source.
    u.failure = u.error_code == "200" ? failure_class::recipient_opted_out
                                      : failure_class::permanent;
  return u;
}

std::string_view normalise_status(std::string_view raw) noexcept {
  if (raw == "queued") return status::queued;
  if (raw == "sent") return status::sent;
  if (raw == "delivered") return status::delivered;
  if (raw == "read") return status::read;
  if (raw == "undelivered") return status::undelivered;
  if (raw == "failed" || raw == "rejected") return status::failed;
  return status::unknown;
}

}  // namespace stopgate::carriers::plivo
