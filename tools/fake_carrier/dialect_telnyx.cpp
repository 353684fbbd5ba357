// Telnyx Messaging API v2: POST /v2/messages, JSON, Authorization: Bearer <API key>
// (carriers.md section 2.1).
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/telnyx/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

// Telnyx's error body: {"errors": [{"code", "title", "detail"}]}, codes as strings.
reply error(int status, std::string_view code, std::string_view title, std::string_view detail,
            outcome result) {
  json::object e;
  e["code"] = code;
  e["title"] = title;
  e["detail"] = detail;
  e["meta"] = json::object{
      {"url", "https://developers.telnyx.com/docs/overview/errors/" + std::string(code)}};
  return json_reply(status, json::object{{"errors", json::array{std::move(e)}}}, result);
}

}  // namespace

reply telnyx(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = error(status_of(*f, 429), "10011", "Too many requests",
                      "You have exceeded the rate limit for this resource.", outcome::faulted);
    // Telnyx documents x-ratelimit-* (reset = seconds until the window resets), not
    // Retry-After; the adapter falls back on x-ratelimit-reset.
    out.headers.emplace_back("x-ratelimit-limit", "100");
    out.headers.emplace_back("x-ratelimit-remaining", "0");
    if (!f->retry_after.empty()) out.headers.emplace_back("x-ratelimit-reset", f->retry_after);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return error(status_of(*f, 503), "10007", "Unexpected error", "An unexpected error occured.",
                 outcome::faulted);

  if (!bearer_is(r.headers, ctx.creds.telnyx.api_key))
    return error(401, "10009", "Authentication failed",
                 "Could not understand the provided credentials.", outcome::unauthorized);

  auto root = media_type(r.headers) == "application/json" ? wire::parse_json(r.body) : std::nullopt;
  if (!root || !root->is_object())
    return error(400, "10015", "Bad Request", "The request body is not a JSON object.",
                 outcome::invalid);
  const std::string to = wire::scalar_text(wire::member(&*root, "to")).value_or("");
  const std::string from = wire::scalar_text(wire::member(&*root, "from")).value_or("");
  const std::string text = wire::scalar_text(wire::member(&*root, "text")).value_or("");
  const std::string webhook = wire::scalar_text(wire::member(&*root, "webhook_url")).value_or("");
  if (to.empty())
    return error(400, "10015", "Bad Request", "The 'to' parameter is required.", outcome::invalid);
  if (from.empty() && !wire::member(&*root, "messaging_profile_id"))
    return error(400, "10015", "Bad Request",
                 "The 'from' or 'messaging_profile_id' parameter is required.", outcome::invalid);
  if (text.empty() && !wire::member(&*root, "media_urls"))
    return error(400, "10015", "Bad Request", "The 'text' or 'media_urls' parameter is required.",
                 outcome::invalid);
  if (!plausible_e164(to) || (f && f->kind == fault_kind::permanent))
    return error(f ? status_of(*f, 400) : 400, "10016", "Phone number must be in +E.164 format",
                 "The 'to' number '" + to + "' is not a valid phone number.",
                 f ? outcome::faulted : outcome::invalid);
  if (f && f->kind == fault_kind::opted_out)
    // The HTTP status of this answer is unconfirmed (carriers.md 2.1); the code is what counts.
    return error(status_of(*f, 400), "40300", "Blocked due to STOP message",
                 "Messages cannot be sent from '" + from + "' to '" + to +
                     "' due to an existing block rule.",
                 outcome::faulted);

  const std::string id = uuid(ctx.ids);
  const std::string now = rfc3339_ms(ctx.now);
  json::object d;
  d["record_type"] = "message";
  d["direction"] = "outbound";
  d["id"] = id;
  d["type"] = "SMS";
  d["messaging_profile_id"] = nullptr;
  d["organization_id"] = hex(ctx.ids.instance(), 16);
  d["to"] = json::array{json::object{{"phone_number", to},
                                     {"status", "queued"},
                                     {"carrier", "FAKE WIRELESS"},
                                     {"line_type", "Wireless"}}};
  d["from"] =
      json::object{{"phone_number", from}, {"carrier", "Telnyx"}, {"line_type", "Wireless"}};
  d["text"] = text;
  d["media"] = json::array{};
  d["webhook_url"] = webhook;
  d["webhook_failover_url"] = "";
  d["encoding"] = "GSM-7";
  d["parts"] = 1;
  d["tags"] = json::array{};
  d["cost"] = nullptr;
  d["received_at"] = now;
  d["sent_at"] = nullptr;
  d["completed_at"] = nullptr;
  d["errors"] = json::array{};
  reply out = json_reply(200, json::object{{"data", std::move(d)}}, outcome::accepted);
  out.message_id = id;
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void telnyx_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                    [[maybe_unused]] const build& b) {
  const std::string_view url = b.url;
  const auto now = b.now;
  json::object payload{
      {"record_type", "message"},
      {"direction", "inbound"},
      {"id", m.carrier_message_id},
      {"type", "SMS"},
      {"messaging_profile_id", "40017f1a-0000-4000-8000-000000000001"},
      {"from",
       json::object{
           {"phone_number", m.from}, {"carrier", "T-Mobile USA"}, {"line_type", "Wireless"}}},
      {"to", json::array{json::object{{"phone_number", m.to}, {"status", "webhook_delivered"}}}},
      {"text", m.body},
      {"media", json::array{}},
      {"received_at", rfc3339_ms(now)},
      {"parts", 1}};
  json::object root{{"data", json::object{{"event_type", "message.received"},
                                          {"id", "ev-" + m.carrier_message_id},
                                          {"occurred_at", rfc3339_ms(now)},
                                          {"payload", std::move(payload)},
                                          {"record_type", "event"}}},
                    {"meta", json::object{{"attempt", 1}, {"delivered_to", url}}}};
  w.content_type = "application/json";
  w.body = json::serialize(root);
}

void telnyx_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                   [[maybe_unused]] const build& b) {
  const std::string_view url = b.url;
  const auto now = b.now;
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
      {"completed_at", rfc3339_ms(now)}};
  json::object root{
      {"data", json::object{{"event_type", final ? "message.finalized" : "message.sent"},
                            {"id", "ev-" + st.carrier_message_id + "-" + st.status},
                            {"occurred_at", rfc3339_ms(now)},
                            {"payload", std::move(payload)},
                            {"record_type", "event"}}},
      {"meta", json::object{{"attempt", 1}, {"delivered_to", url}}}};
  w.content_type = "application/json";
  w.body = json::serialize(root);
}

void telnyx_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                 [[maybe_unused]] const build& b) {
  const signing& keys = b.keys;
  const auto ts = unix_seconds(b.now);
  auto s = sig::telnyx_sign(keys.telnyx_seed, ts, w.body);
  w.headers.emplace_back("telnyx-signature-ed25519", s.value_or(""));
  w.headers.emplace_back("telnyx-timestamp", std::to_string(ts));
}

// Its credentials: what the fake expects (its config file's "telnyx" section) and the gateway
// settings that carry them.
boost::system::error_code telnyx_read(const json::object& o, std::string_view key, credentials& c,
                                      std::string& detail) {
  return read_fields(o, key, {{"api_key", &c.telnyx.api_key}}, detail);
}

void telnyx_settings(config::carrier_settings& s, const credentials& c,
                     [[maybe_unused]] std::string_view base_url) {
  s.credentials = config::telnyx_credentials{config::secret::from_inline(c.telnyx.api_key), {}};
}

extern const carrier_row telnyx_row{config::carrier_type::telnyx,
                                    &telnyx,
                                    &telnyx_inbound,
                                    &telnyx_status,
                                    &telnyx_sign,
                                    &telnyx_read,
                                    &telnyx_settings};

}  // namespace stopgate::fake_carrier::dialect
