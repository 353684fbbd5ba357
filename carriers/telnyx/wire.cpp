#include "carriers/telnyx/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/object.hpp>

namespace stopgate::carriers::telnyx {

using boost::system::result;
namespace json = boost::json;

namespace {

// Telnyx spells error codes as strings ("40300"); accept numbers too.
bool any_error_code(const json::value* errors, std::string_view code) {
  if (errors == nullptr || !errors->is_array()) return false;
  for (const auto& e : errors->get_array())
    if (wire::scalar_text(wire::member(&e, "code")) == code) return true;
  return false;
}

// The event object (data) of a webhook when its event_type is one of `wanted`.
result<const json::value*> event_data(const json::value& root,
                                      std::initializer_list<std::string_view> wanted) {
  const json::value* data = wire::member(&root, "data");
  auto type = wire::scalar_text(wire::member(data, "event_type"));
  if (!type) return make_error_code(wire_errc::malformed_body);
  for (auto w : wanted)
    if (*type == w) return data;
  return make_error_code(wire_errc::ignored_event);
}

// Without Retry-After, x-ratelimit-reset (seconds until the window resets) says when to retry.
send_outcome with_rate_limit_reset(send_outcome out, const header_list& headers) {
  if (out.failure == failure_class::retryable && !out.retry_after)
    if (auto reset = wire::find_header(headers, "x-ratelimit-reset"))
      out.retry_after = wire::parse_delay_seconds(*reset);
  return out;
}

}  // namespace

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::telnyx_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(s.base_url, "/v2/messages");
  call.headers.emplace_back("Authorization", wire::bearer_auth(c.api_key.reveal()));
  call.content_type = "application/json";
  json::object o;
  o["from"] = msg.from;
  o["to"] = msg.to;
  o["text"] = msg.body;
  if (!msg.status_callback_url.empty()) o["webhook_url"] = msg.status_callback_url;
  call.body = wire::json_text(o);
  return call;
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  if (!json)
    return with_rate_limit_reset(wire::unreadable_response(status, body, headers, now), headers);
  const json::value* root = &*json;
  if (wire::is_success(status)) {
    const json::value* data = wire::member(root, "data");
    auto id = wire::scalar_text(wire::member(data, "id"));
    if (!id || id->empty()) return wire::unreadable_response(status, body, headers, now);
    send_outcome out;
    out.accepted = true;
    out.carrier_message_id = std::move(*id);
    out.carrier_status =
        wire::scalar_text(wire::member(wire::element(wire::member(data, "to"), 0), "status"))
            .value_or("");
    return out;
  }
  const json::value* errors = wire::member(root, "errors");
  const json::value* first = wire::element(errors, 0);
  std::string code = wire::scalar_text(wire::member(first, "code")).value_or("");
  std::string message = wire::scalar_text(wire::member(first, "detail")).value_or("");
  if (message.empty()) message = wire::scalar_text(wire::member(first, "title")).value_or("");
  failure_class fc = wire::class_for_status(status);
  // The opt-out block may come with any status; the code is what counts (carriers.md 2.1).
  if (any_error_code(errors, "40300")) {
    fc = failure_class::recipient_opted_out;
    code = "40300";
  } else if (code == "10011") {
    fc = failure_class::retryable;
  }
  send_outcome out = wire::failed(fc, code.empty() ? wire::http_code(status) : code,
                                  message.empty() ? wire::raw_snippet(body) : message);
  wire::apply_retry_after(out, headers, now);
  return with_rate_limit_reset(std::move(out), headers);
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  auto data = event_data(*root, {"message.received"});
  if (!data) return data.error();
  const json::value* p = wire::member(*data, "payload");
  auto id = wire::required_text(wire::member(p, "id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_text(wire::member(wire::member(p, "from"), "phone_number"),
                                  wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_text(
      wire::member(wire::element(wire::member(p, "to"), 0), "phone_number"),
      wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_text(wire::member(p, "text"));
  if (!text) return text.error();
  return inbound_message{"telnyx",       std::move(*id),   std::move(*from),
                         std::move(*to), std::move(*text), {}};
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  auto data = event_data(*root, {"message.sent", "message.finalized"});
  if (!data) return data.error();
  const json::value* p = wire::member(*data, "payload");
  auto id = wire::required_text(wire::member(p, "id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  const json::value* recipient = wire::element(wire::member(p, "to"), 0);
  auto raw = wire::required_text(wire::member(recipient, "status"), wire_errc::missing_status);
  if (!raw) return raw.error();
  auto to = wire::optional_text(wire::member(recipient, "phone_number"));
  if (!to) return to.error();
  auto from = wire::optional_text(wire::member(wire::member(p, "from"), "phone_number"));
  if (!from) return from.error();
  const json::value* errors = wire::member(p, "errors");
  auto code = wire::optional_text(wire::member(wire::element(errors, 0), "code"));
  if (!code) return code.error();

  status_update u;
  u.carrier = "telnyx";
  u.carrier_message_id = std::move(*id);
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  u.from = std::move(*from);
  if (u.status == status::failed || u.status == status::undelivered) {
    if (any_error_code(errors, "40300")) {
      u.failure = failure_class::recipient_opted_out;
      u.error_code = "40300";
    } else if (u.error_code == "40002" || u.error_code == "40004" || u.error_code == "40006") {
      // Temporary spam block, destination rejection, recipient unavailable: "retry later".
      u.failure = failure_class::retryable;
    } else {
      u.failure = failure_class::permanent;
    }
  }
  return u;
}

std::string_view normalise_status(std::string_view raw) noexcept {
  if (raw == "queued") return status::queued;
  if (raw == "sending") return status::sending;
  if (raw == "sent") return status::sent;
  if (raw == "delivered") return status::delivered;
  if (raw == "sending_failed") return status::failed;
  if (raw == "delivery_failed") return status::undelivered;
  // The network took it but gave no receipt: as far as anyone will know, it was sent.
  if (raw == "delivery_unconfirmed") return status::sent;
  return status::unknown;
}

}  // namespace stopgate::carriers::telnyx
