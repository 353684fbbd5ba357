#include "tools/fake_carrier/webhooks.hpp"

#include "carriers/bandwidth/signature.hpp"
#include "carriers/plivo/signature.hpp"
#include "carriers/sandbox/signature.hpp"
#include "carriers/sinch/signature.hpp"
#include "carriers/telnyx/signature.hpp"
#include "carriers/twilio/signature.hpp"
#include "carriers/signature/verify.hpp"
#include "carriers/vonage/signature.hpp"
#include "carriers/wire/encode.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include <stdexcept>

namespace stopgate::fake_carrier {
namespace {

namespace json = boost::json;
namespace sig = carriers::signature;
using config::carrier_type;
using params = sig::param_list;

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(t));
}

std::string digits(std::string_view number) {
  return std::string(carriers::wire::without_plus(number));
}

std::string form(const params& p) {
  std::string out;
  for (auto& [k, v] : p) carriers::wire::append_form_field(out, k, v);
  return out;
}

// Signs a built request in place with the carrier's scheme. `p` are the form params (form
// carriers) and `url` the full URL the gateway will rebuild.
void sign(webhook& w, const config::carrier_settings& c, const std::string& url, params p,
          std::chrono::system_clock::time_point now, const signing& keys, std::string_view nonce) {
  const auto ts = unix_seconds(now);
  switch (c.type) {
    case carrier_type::twilio:
      w.headers.emplace_back(
          "X-Twilio-Signature",
          sig::twilio_sign(c.creds<config::twilio_credentials>().auth_token.reveal(), url, p));
      break;
    case carrier_type::telnyx: {
      auto s = sig::telnyx_sign(keys.telnyx_seed, ts, w.body);
      w.headers.emplace_back("telnyx-signature-ed25519", s.value_or(""));
      w.headers.emplace_back("telnyx-timestamp", std::to_string(ts));
      break;
    }
    case carrier_type::bandwidth: {
      auto& k = c.creds<config::bandwidth_credentials>();
      w.headers.emplace_back("Authorization", sig::bandwidth_authorization(
                                                  k.webhook_username, k.webhook_password.reveal()));
      break;
    }
    case carrier_type::vonage: {
      auto& k = c.creds<config::vonage_credentials>();
      if (keys.vonage_jwt) {
        w.headers.emplace_back("Authorization",
                               "Bearer " + sig::vonage_jwt_sign(k.signature_secret.reveal(), ts,
                                                                w.body, std::string(nonce)));
        break;
      }
      // Signed-request params travel in the form itself: rebuild the body with them.
      p.emplace_back("timestamp", std::to_string(ts));
      p.emplace_back("nonce", std::string(nonce));
      p.emplace_back("sig", sig::vonage_sign(p, k.signature_secret.reveal(),
                                             sig::to_vonage_sig_method(k.signature_method)));
      w.body = form(p);
      break;
    }
    case carrier_type::plivo:
      w.headers.emplace_back(
          "X-Plivo-Signature-V3",
          sig::plivo_v3_sign(c.creds<config::plivo_credentials>().auth_token.reveal(), w.method,
                             url, nonce, p));
      w.headers.emplace_back("X-Plivo-Signature-V3-Nonce", std::string(nonce));
      break;
    case carrier_type::sinch: {
      const auto secret = c.creds<config::sinch_credentials>().webhook_secret.reveal();
      w.headers.emplace_back("x-sinch-webhook-signature",
                             sig::sinch_sign(secret, w.body, nonce, ts));
      w.headers.emplace_back("x-sinch-webhook-signature-algorithm", "HmacSHA256");
      w.headers.emplace_back("x-sinch-webhook-signature-nonce", std::string(nonce));
      w.headers.emplace_back("x-sinch-webhook-signature-timestamp", std::to_string(ts));
      break;
    }
    case carrier_type::http:
    case carrier_type::sandbox: {
      const auto& secret = c.type == carrier_type::http
                               ? c.creds<config::http_credentials>().webhook_secret
                               : c.creds<config::sandbox_credentials>().webhook_secret;
      if (secret.empty()) break;  // unsigned: accepted from loopback peers (sandbox only)
      w.headers.emplace_back("X-Stopgate-Timestamp", std::to_string(ts));
      w.headers.emplace_back("X-Stopgate-Signature",
                             sig::sandbox_sign(secret.reveal(), ts, w.body));
      break;
    }
  }
}

webhook base(const config::carrier_settings& c, std::string_view kind, std::string_view base_url,
             std::string& url) {
  webhook w;
  w.path = "/v1/" + std::string(kind) + "/" + c.name;
  url = std::string(base_url) + w.path;
  return w;
}

}  // namespace

webhook inbound_webhook(const config::carrier_settings& c, std::string_view base_url,
                        const inbound_spec& m, std::chrono::system_clock::time_point now,
                        const signing& keys) {
  std::string url;
  webhook w = base(c, "inbound", base_url, url);
  const std::string nonce = "n-" + m.carrier_message_id;
  params p;
  switch (c.type) {
    case carrier_type::twilio:
      p = {{"ToCountry", "US"},
           {"SmsMessageSid", m.carrier_message_id},
           {"NumMedia", "0"},
           {"SmsSid", m.carrier_message_id},
           {"SmsStatus", "received"},
           {"Body", m.body},
           {"To", m.to},
           {"NumSegments", "1"},
           {"MessageSid", m.carrier_message_id},
           {"AccountSid", c.creds<config::twilio_credentials>().account_sid},
           {"From", m.from},
           {"ApiVersion", "2010-04-01"}};
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      break;
    case carrier_type::telnyx: {
      json::object payload{{"record_type", "message"},
                           {"direction", "inbound"},
                           {"id", m.carrier_message_id},
                           {"type", "SMS"},
                           {"messaging_profile_id", "40017f1a-0000-4000-8000-000000000001"},
                           {"from", json::object{{"phone_number", m.from},
                                                 {"carrier", "T-Mobile USA"},
                                                 {"line_type", "Wireless"}}},
                           {"to", json::array{json::object{{"phone_number", m.to},
                                                           {"status", "webhook_delivered"}}}},
                           {"text", m.body},
                           {"media", json::array{}},
                           {"received_at", rfc3339(now)},
                           {"parts", 1}};
      json::object root{{"data", json::object{{"event_type", "message.received"},
                                              {"id", "ev-" + m.carrier_message_id},
                                              {"occurred_at", rfc3339(now)},
                                              {"payload", std::move(payload)},
                                              {"record_type", "event"}}},
                        {"meta", json::object{{"attempt", 1}, {"delivered_to", url}}}};
      w.content_type = "application/json";
      w.body = json::serialize(root);
      break;
    }
    case carrier_type::bandwidth: {
      json::array events{json::object{
          {"type", "message-received"},
          {"time", rfc3339(now)},
          {"description", "Incoming message received"},
          {"to", m.to},
          {"message",
           json::object{{"id", m.carrier_message_id},
                        {"owner", m.to},
                        {"applicationId", c.creds<config::bandwidth_credentials>().application_id},
                        {"time", rfc3339(now)},
                        {"segmentCount", 1},
                        {"direction", "in"},
                        {"to", json::array{json::value(m.to)}},
                        {"from", m.from},
                        {"text", m.body}}}}};
      w.content_type = "application/json; charset=utf-8";
      w.body = json::serialize(events);
      break;
    }
    case carrier_type::vonage: {
      const auto first_space = m.body.find(' ');
      p = {{"msisdn", digits(m.from)},
           {"to", digits(m.to)},
           {"messageId", m.carrier_message_id},
           {"text", m.body},
           {"type", "text"},
           {"keyword", m.body.substr(0, first_space)},
           {"api-key", c.creds<config::vonage_credentials>().api_key},
           {"message-timestamp",
            date::format("%F %T", std::chrono::floor<std::chrono::seconds>(now))}};
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      if (keys.vonage_jwt) {
        // Signed with a JWT the params are the JSON body (POST-JSON webhooks).
        json::object o;
        for (auto& [k, v] : p) o[k] = v;
        w.content_type = "application/json";
        w.body = json::serialize(o);
      }
      break;
    }
    case carrier_type::plivo:
      p = {{"From", digits(m.from)},
           {"To", digits(m.to)},
           {"Text", m.body},
           {"Type", "sms"},
           {"MessageUUID", m.carrier_message_id},
           {"Units", "1"},
           {"TotalRate", "0.00000"},
           {"TotalAmount", "0.00000"}};
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      break;
    case carrier_type::sinch: {
      json::object o{{"id", m.carrier_message_id},
                     {"type", "mo_text"},
                     {"from", digits(m.from)},
                     {"to", digits(m.to)},
                     {"body", m.body},
                     {"operator_id", "310260"},
                     {"sent_at", rfc3339(now)},
                     {"received_at", rfc3339(now)}};
      w.content_type = "application/json";
      w.body = json::serialize(o);
      break;
    }
    case carrier_type::http:
    case carrier_type::sandbox: {
      json::object o{
          {"message_id", m.carrier_message_id}, {"from", m.from}, {"to", m.to}, {"body", m.body}};
      w.content_type = "application/json";
      w.body = json::serialize(o);
      break;
    }
  }
  sign(w, c, url, std::move(p), now, keys, nonce);
  return w;
}

webhook status_webhook(const config::carrier_settings& c, std::string_view base_url,
                       const status_spec& st, std::chrono::system_clock::time_point now,
                       const signing& keys) {
  std::string url;
  webhook w = base(c, "status", base_url, url);
  const std::string nonce = "n-" + st.carrier_message_id + "-" + st.status;
  params p;
  switch (c.type) {
    case carrier_type::twilio:
      p = {{"SmsSid", st.carrier_message_id},
           {"SmsStatus", st.status},
           {"MessageStatus", st.status},
           {"To", st.to},
           {"MessageSid", st.carrier_message_id},
           {"AccountSid", c.creds<config::twilio_credentials>().account_sid},
           {"From", st.from},
           {"ApiVersion", "2010-04-01"}};
      if (!st.error_code.empty()) p.emplace_back("ErrorCode", st.error_code);
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      break;
    case carrier_type::telnyx: {
      json::array errors;
      if (!st.error_code.empty())
        errors.push_back(json::object{{"code", st.error_code}, {"title", "error"}});
      const bool final = st.status != "queued" && st.status != "sending" && st.status != "sent";
      json::object payload{
          {"record_type", "message"},
          {"direction", "outbound"},
          {"id", st.carrier_message_id},
          {"type", "SMS"},
          {"from", json::object{{"phone_number", st.from}}},
          {"to", json::array{json::object{{"phone_number", st.to}, {"status", st.status}}}},
          {"errors", std::move(errors)},
          {"completed_at", rfc3339(now)}};
      json::object root{
          {"data", json::object{{"event_type", final ? "message.finalized" : "message.sent"},
                                {"id", "ev-" + st.carrier_message_id + "-" + st.status},
                                {"occurred_at", rfc3339(now)},
                                {"payload", std::move(payload)},
                                {"record_type", "event"}}},
          {"meta", json::object{{"attempt", 1}, {"delivered_to", url}}}};
      w.content_type = "application/json";
      w.body = json::serialize(root);
      break;
    }
    case carrier_type::bandwidth: {
      json::object ev{
          {"type", st.status},
          {"time", rfc3339(now)},
          {"description",
           st.status == "message-delivered" ? "Message delivered to carrier." : "failed"},
          {"to", st.to},
          {"message",
           json::object{{"id", st.carrier_message_id},
                        {"owner", st.from},
                        {"applicationId", c.creds<config::bandwidth_credentials>().application_id},
                        {"time", rfc3339(now)},
                        {"segmentCount", 1},
                        {"direction", "out"},
                        {"to", json::array{json::value(st.to)}},
                        {"from", st.from},
                        {"text", ""}}}};
      if (!st.error_code.empty()) ev["errorCode"] = std::stoll(st.error_code);
      w.content_type = "application/json; charset=utf-8";
      w.body = json::serialize(json::array{std::move(ev)});
      break;
    }
    case carrier_type::vonage:
      // In a DLR msisdn is the recipient and `to` our sender.
      p = {{"msisdn", digits(st.to)},
           {"to", digits(st.from)},
           {"network-code", "310260"},
           {"messageId", st.carrier_message_id},
           {"price", "0.00570000"},
           {"status", st.status},
           {"scts", "2605011200"},
           {"err-code", st.error_code.empty() ? "0" : st.error_code},
           {"api-key", c.creds<config::vonage_credentials>().api_key},
           {"message-timestamp",
            date::format("%F %T", std::chrono::floor<std::chrono::seconds>(now))}};
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      break;
    case carrier_type::plivo:
      p = {{"MessageUUID", st.carrier_message_id},
           {"Status", st.status},
           {"To", digits(st.to)},
           {"From", digits(st.from)},
           {"Type", "sms"},
           {"Units", "1"}};
      if (!st.error_code.empty()) p.emplace_back("ErrorCode", st.error_code);
      w.content_type = "application/x-www-form-urlencoded";
      w.body = form(p);
      break;
    case carrier_type::sinch: {
      json::object o{{"type", "recipient_delivery_report_sms"},
                     {"batch_id", st.carrier_message_id},
                     {"recipient", digits(st.to)},
                     {"code", st.error_code.empty() ? 0 : std::stoll(st.error_code)},
                     {"status", st.status},
                     {"at", rfc3339(now)}};
      w.content_type = "application/json";
      w.body = json::serialize(o);
      break;
    }
    case carrier_type::http:
    case carrier_type::sandbox: {
      json::object o{{"message_id", st.carrier_message_id},
                     {"status", st.status},
                     {"to", st.to},
                     {"from", st.from}};
      if (!st.error_code.empty()) o["error_code"] = st.error_code;
      w.content_type = "application/json";
      w.body = json::serialize(o);
      break;
    }
  }
  sign(w, c, url, std::move(p), now, keys, nonce);
  return w;
}

webhook inbound_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                              const std::vector<inbound_spec>& ms,
                              std::chrono::system_clock::time_point now, const signing& keys) {
  if (c.type != carrier_type::bandwidth || ms.empty())
    throw std::invalid_argument("inbound_batch_webhook: bandwidth only, at least one message");
  // Basic auth does not cover the body: the events of single webhooks are joined as they are.
  webhook w = inbound_webhook(c, base_url, ms.front(), now, keys);
  json::array events;
  for (const auto& m : ms)
    events.push_back(json::parse(inbound_webhook(c, base_url, m, now, keys).body).at(0));
  w.body = json::serialize(events);
  return w;
}

webhook status_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                             const std::vector<status_spec>& sts,
                             std::chrono::system_clock::time_point now, const signing& keys) {
  if (sts.empty()) throw std::invalid_argument("status_batch_webhook: no update");
  if (c.type == carrier_type::bandwidth) {
    webhook w = status_webhook(c, base_url, sts.front(), now, keys);
    json::array events;
    for (const auto& st : sts)
      events.push_back(json::parse(status_webhook(c, base_url, st, now, keys).body).at(0));
    w.body = json::serialize(events);
    return w;
  }
  if (c.type != carrier_type::sinch)
    throw std::invalid_argument("status_batch_webhook: bandwidth or sinch only");
  // A Sinch batch report: one status entry per update, each with its one recipient.
  std::string url;
  webhook w = base(c, "status", base_url, url);
  json::array statuses;
  for (const auto& st : sts)
    statuses.push_back(json::object{{"code", st.error_code.empty() ? 0 : std::stoll(st.error_code)},
                                    {"status", st.status},
                                    {"count", 1},
                                    {"recipients", json::array{json::value(digits(st.to))}}});
  json::object o{{"type", "delivery_report_sms"},
                 {"batch_id", sts.front().carrier_message_id},
                 {"total_message_count", static_cast<std::int64_t>(sts.size())},
                 {"statuses", std::move(statuses)}};
  w.content_type = "application/json";
  w.body = json::serialize(o);
  sign(w, c, url, {}, now, keys, "n-" + sts.front().carrier_message_id + "-batch");
  return w;
}

std::string to_http(const webhook& w, std::string_view host) {
  std::string r = w.method + " " + w.path + " HTTP/1.1\r\nHost: " + std::string(host) +
                  "\r\nConnection: close\r\n";
  if (!w.content_type.empty()) r += "Content-Type: " + w.content_type + "\r\n";
  for (auto& [k, v] : w.headers) r += k + ": " + v + "\r\n";
  r += "Content-Length: " + std::to_string(w.body.size()) + "\r\n\r\n" + w.body;
  return r;
}

}  // namespace stopgate::fake_carrier
