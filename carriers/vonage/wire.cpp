#include "carriers/vonage/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <algorithm>

namespace stopgate::carriers::vonage {

using boost::system::result;
namespace json = boost::json;

namespace {

failure_class failure_for_submit_status(std::string_view code) noexcept {
  // 1 throttled, 5 internal error, 10 too many binds: transient (carriers.md 4.1).
  if (code == "1" || code == "5" || code == "10") return failure_class::retryable;
  // 7 "number barred": the recipient is on Vonage's block list, which is where STOP replies
  // land; treated as an opt-out at the carrier (carriers.md 7, "Final, add DNC").
  if (code == "7") return failure_class::recipient_opted_out;
  return failure_class::permanent;
}

}  // namespace

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::vonage_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(s.base_url, "/sms/json");
  call.content_type = "application/x-www-form-urlencoded";
  wire::append_form_field(call.body, "api_key", c.api_key);
  wire::append_form_field(call.body, "api_secret", c.api_secret.reveal());
  wire::append_form_field(call.body, "from", wire::without_plus(msg.from));
  wire::append_form_field(call.body, "to", wire::without_plus(msg.to));
  wire::append_form_field(call.body, "text", msg.body);
  // Without type=unicode Vonage sends GSM-7 and garbles anything outside it.
  bool ascii = std::all_of(msg.body.begin(), msg.body.end(),
                           [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
  if (!ascii) wire::append_form_field(call.body, "type", "unicode");
  wire::append_form_field(call.body, "client-ref", msg.message_id);
  if (!msg.status_callback_url.empty())
    wire::append_form_field(call.body, "callback", msg.status_callback_url);
  return call;
}

send_outcome parse_send_response(int status, const header_list& headers, std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  auto json = wire::parse_json(body);
  if (!json || !wire::is_success(status)) return wire::unreadable_response(status, body, headers, now);
  // A long text is split into parts, one entry each; the first decides (parts of one submit
  // share their fate) and its id is the one we keep.
  const json::value* first = wire::element(wire::member(&*json, "messages"), 0);
  auto code = wire::scalar_text(wire::member(first, "status"));
  if (!code) return wire::unreadable_response(status, body, headers, now);
  if (*code == "0") {
    auto id = wire::scalar_text(wire::member(first, "message-id"));
    if (!id || id->empty()) return wire::unreadable_response(status, body, headers, now);
    send_outcome out;
    out.accepted = true;
    out.carrier_message_id = std::move(*id);
    out.carrier_status = "0";
    return out;
  }
  std::string text = wire::scalar_text(wire::member(first, "error-text")).value_or("");
  send_outcome out = wire::failed(failure_for_submit_status(*code), *code, text);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view query) {
  auto params = wire::form_or_json_params(content_type, body, query);
  if (!params) return params.error();
  auto id = wire::required_param(*params, "messageId", wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_param(*params, "msisdn", wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_param(*params, "to", wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_param(*params, "text");
  if (!text) return text.error();
  auto keyword = wire::optional_param(*params, "keyword");
  if (!keyword) return keyword.error();
  return inbound_message{"vonage",       std::move(*id),   std::move(*from),
                         std::move(*to), std::move(*text), std::move(*keyword)};
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view query) {
  auto params = wire::form_or_json_params(content_type, body, query);
  if (!params) return params.error();
  auto id = wire::required_param(*params, "messageId", wire_errc::missing_message_id);
  if (!id) return id.error();
  auto raw = wire::required_param(*params, "status", wire_errc::missing_status);
  if (!raw) return raw.error();
  auto code = wire::optional_param(*params, "err-code");
  if (!code) return code.error();
  auto recipient = wire::optional_param(*params, "msisdn");
  if (!recipient) return recipient.error();
  auto sender = wire::optional_param(*params, "to");
  if (!sender) return sender.error();

  status_update u;
  u.carrier = "vonage";
  u.carrier_message_id = std::move(*id);
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*recipient);
  u.from = std::move(*sender);
  if (u.status == status::failed || u.status == status::undelivered)
    // err-code 9: "user has requested not to receive messages from the sending number".
    u.failure = u.error_code == "9" ? failure_class::recipient_opted_out
                                    : failure_class::permanent;
  return u;
}

std::string_view normalise_status(std::string_view raw) noexcept {
  if (raw == "accepted") return status::sent;
  if (raw == "buffered") return status::sending;
  if (raw == "delivered") return status::delivered;
  if (raw == "expired" || raw == "failed") return status::undelivered;
  if (raw == "rejected") return status::failed;
  return status::unknown;
}

}  // namespace stopgate::carriers::vonage
