#include "carriers/twilio/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

namespace stopgate::carriers::twilio {

using boost::system::result;

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::twilio_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(s.base_url, "/2010-04-01/Accounts/" +
                                            wire::encode_path_segment(c.account_sid) +
                                            "/Messages.json");
  call.headers.emplace_back("Authorization",
                            wire::basic_auth(c.account_sid, c.auth_token.reveal()));
  call.content_type = "application/x-www-form-urlencoded";
  wire::append_form_field(call.body, "To", msg.to);
  wire::append_form_field(call.body, "From", msg.from);
  wire::append_form_field(call.body, "Body", msg.body);
  if (!msg.status_callback_url.empty())
    wire::append_form_field(call.body, "StatusCallback", msg.status_callback_url);
  return call;
}

bool is_opt_out_code(std::string_view code) noexcept {
  return code == "21610" || code == "63014";
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  if (!json) return wire::unreadable_response(status, body, headers, now);
  const boost::json::value* root = &*json;
  if (wire::is_success(status)) {
    auto sid = wire::scalar_text(wire::member(root, "sid"));
    if (!sid || sid->empty()) return wire::unreadable_response(status, body, headers, now);
    send_outcome out;
    out.accepted = true;
    out.carrier_message_id = std::move(*sid);
    out.carrier_status = wire::scalar_text(wire::member(root, "status")).value_or("");
    return out;
  }
  std::string code = wire::scalar_text(wire::member(root, "code")).value_or("");
  std::string message = wire::scalar_text(wire::member(root, "message")).value_or("");
  failure_class fc = wire::class_for_status(status);
  // 21610 is the synchronous "replied STOP"; 20429 is the concurrency limit ("always safe to
  // retry").
  if (code == "21610") fc = failure_class::recipient_opted_out;
  else if (code == "20429") fc = failure_class::retryable;
  send_outcome out = wire::failed(fc, code.empty() ? wire::http_code(status) : code,
                                  message.empty() ? wire::raw_snippet(body) : message);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view query) {
  auto params = wire::form_params(content_type, body, query);
  if (!params) return params.error();
  auto sid = wire::required_param(*params, "MessageSid", wire_errc::missing_message_id);
  if (!sid) return sid.error();
  auto from = wire::required_param(*params, "From", wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_param(*params, "To", wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_param(*params, "Body");
  if (!text) return text.error();
  auto intent = wire::optional_param(*params, "OptOutType");
  if (!intent) return intent.error();
  return inbound_message{"twilio",       std::move(*sid),  std::move(*from),
                         std::move(*to), std::move(*text), std::move(*intent)};
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view query) {
  auto params = wire::form_params(content_type, body, query);
  if (!params) return params.error();
  auto sid = wire::required_param(*params, "MessageSid", wire_errc::missing_message_id);
  if (!sid) return sid.error();
  auto raw = wire::required_param(*params, "MessageStatus", wire_errc::missing_status);
  if (!raw) return raw.error();
  auto code = wire::optional_param(*params, "ErrorCode");
  if (!code) return code.error();
  auto from = wire::optional_param(*params, "From");
  if (!from) return from.error();
  auto to = wire::optional_param(*params, "To");
  if (!to) return to.error();

  status_update u;
  u.carrier = "twilio";
  u.carrier_message_id = std::move(*sid);
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  u.from = std::move(*from);
  if (u.status == status::failed || u.status == status::undelivered) {
    // 30022 (10DLC throughput) says "slow down", not "never again".
    u.failure = is_opt_out_code(u.error_code) ? failure_class::recipient_opted_out
                : u.error_code == "30022"     ? failure_class::retryable
                                              : failure_class::permanent;
  }
  return u;
}

std::string_view normalise_status(std::string_view raw) noexcept {
  if (raw == "queued" || raw == "accepted" || raw == "scheduled") return status::queued;
  if (raw == "sending") return status::sending;
  if (raw == "sent") return status::sent;
  if (raw == "delivered") return status::delivered;
  if (raw == "read") return status::read;
  if (raw == "undelivered") return status::undelivered;
  if (raw == "failed") return status::failed;
  if (raw == "canceled") return status::canceled;
  // Group MMS: some recipients got it; the message as a whole was handed on.
  if (raw == "partially_delivered") return status::sent;
  return status::unknown;
}

}  // namespace stopgate::carriers::twilio
