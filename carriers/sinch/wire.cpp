#include "carriers/sinch/wire.hpp"

#include "carriers/wire/encode.hpp"
#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::carriers::sinch {

using boost::system::error_code;
using boost::system::result;
namespace json = boost::json;

http_call build_send(const config::carrier_settings& s, const outbound_message& msg) {
  const auto& c = s.creds<config::sinch_credentials>();
  http_call call;
  call.method = "POST";
  call.url = wire::join_url(
      s.base_url, "/xms/v1/" + wire::encode_path_segment(c.service_plan_id) + "/batches");
  call.headers.emplace_back("Authorization", wire::bearer_auth(c.api_token.reveal()));
  call.content_type = "application/json";
  json::object o;
  o["from"] = msg.from;
  o["to"] = json::array{json::string(msg.to)};
  o["body"] = msg.body;
  o["client_reference"] = msg.message_id;
  // Sinch's default is "none": without asking, no delivery report ever comes.
  o["delivery_report"] = "per_recipient";
  if (!msg.status_callback_url.empty()) o["callback_url"] = msg.status_callback_url;
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
  std::string code = wire::scalar_text(wire::member(root, "code")).value_or("");
  std::string text = wire::scalar_text(wire::member(root, "text")).value_or("");
  send_outcome out =
      wire::failed(wire::class_for_status(status), code.empty() ? wire::http_code(status) : code,
                   text.empty() ? wire::raw_snippet(body) : text);
  wire::apply_retry_after(out, headers, now);
  return out;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  auto type = wire::scalar_text(wire::member(&*root, "type"));
  if (!type) return make_error_code(wire_errc::malformed_body);
  // Binary and media MOs carry no keyword text.
  if (*type != "mo_text") return make_error_code(wire_errc::ignored_event);
  auto id = wire::required_text(wire::member(&*root, "id"), wire_errc::missing_message_id);
  if (!id) return id.error();
  auto from = wire::required_text(wire::member(&*root, "from"), wire_errc::missing_from);
  if (!from) return from.error();
  auto to = wire::required_text(wire::member(&*root, "to"), wire_errc::missing_to);
  if (!to) return to.error();
  auto text = wire::optional_text(wire::member(&*root, "body"));
  if (!text) return text.error();
  return inbound_message{"sinch",        std::move(*id),   std::move(*from),
                         std::move(*to), std::move(*text), {}};
}

namespace {

// One update: the report's status and code for one recipient ("" when the report lists none).
result<status_update> update_from(const std::string& batch_id, const json::value* report,
                                  const json::value* recipient) {
  auto raw = wire::required_text(wire::member(report, "status"), wire_errc::missing_status);
  if (!raw) return raw.error();
  auto code = wire::optional_text(wire::member(report, "code"));
  if (!code) return code.error();
  auto to = wire::optional_text(recipient);
  if (!to) return to.error();

  status_update u;
  u.carrier = "sinch";
  u.carrier_message_id = batch_id;
  u.status = std::string(normalise_status(*raw));
  u.raw_status = std::move(*raw);
  u.error_code = std::move(*code);
  u.to = std::move(*to);
  // "Deleted" may mean an opted-out subscriber or an invalid number: too ambiguous to record
  // an opt-out on, so it is a permanent failure like the rest.
  if (u.status == status::failed || u.status == status::undelivered)
    u.failure = failure_class::permanent;
  return u;
}

}  // namespace

result<std::vector<status_update>> parse_status_updates(std::string_view content_type,
                                                        std::string_view body) {
  auto root = wire::json_body(content_type, body);
  if (!root) return root.error();
  const json::value* r = &*root;
  auto type = wire::scalar_text(wire::member(r, "type"));
  if (!type) return make_error_code(wire_errc::malformed_body);
  if (*type != "recipient_delivery_report_sms" && *type != "delivery_report_sms")
    return make_error_code(wire_errc::ignored_event);
  auto id = wire::required_text(wire::member(r, "batch_id"), wire_errc::missing_message_id);
  if (!id) return id.error();

  std::vector<status_update> out;
  auto add = [&](const json::value* report, const json::value* recipient) -> error_code {
    if (out.size() == max_updates) return make_error_code(wire_errc::malformed_body);
    auto u = update_from(*id, report, recipient);
    if (!u) return u.error();
    out.push_back(std::move(*u));
    return {};
  };
  if (*type == "recipient_delivery_report_sms") {
    if (auto ec = add(r, wire::member(r, "recipient"))) return ec;
    return out;
  }
  // A batch report: each status with each of its recipients (none listed: one update).
  const json::value* statuses = wire::member(r, "statuses");
  if (statuses == nullptr || !statuses->is_array() || statuses->get_array().empty())
    return make_error_code(wire_errc::missing_status);
  for (const auto& report : statuses->get_array()) {
    const json::value* recipients = wire::member(&report, "recipients");
    if (recipients != nullptr && !recipients->is_array())
      return make_error_code(wire_errc::malformed_body);
    if (recipients == nullptr || recipients->get_array().empty()) {
      if (auto ec = add(&report, nullptr)) return ec;
      continue;
    }
    for (const auto& to : recipients->get_array())
      if (auto ec = add(&report, &to)) return ec;
  }
  return out;
}

std::string_view normalise_status(std::string_view raw) noexcept {
  if (raw == "Queued") return status::queued;
  if (raw == "Dispatched") return status::sent;
  if (raw == "Delivered") return status::delivered;
  if (raw == "Aborted" || raw == "Rejected") return status::failed;
  if (raw == "Deleted" || raw == "Failed" || raw == "Expired") return status::undelivered;
  if (raw == "Cancelled") return status::canceled;
  return status::unknown;
}

}  // namespace stopgate::carriers::sinch
