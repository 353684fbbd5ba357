// Bandwidth Messaging API v2: POST /api/v2/users/{accountId}/messages, JSON, HTTP Basic
// (or OAuth2 Bearer) (carriers.md section 3.1). Bandwidth reports opt-outs only in a later
// message-failed callback (4775), so the opted_out fault accepts the message.
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/bandwidth/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

// Bandwidth's error body: {"type", "description"}.
reply error(int status, std::string_view type, std::string_view description, outcome result) {
  return json_reply(status, json::object{{"type", type}, {"description", description}}, result);
}

// Bandwidth ids: milliseconds since the epoch and 15 lower-case alphanumerics.
std::string message_id(const answer_context& ctx) {
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::uint64_t v = ctx.ids.next() * 0x9E3779B97F4A7C15ull ^ ctx.ids.instance();
  std::string tail;
  for (int i = 0; i < 15; ++i, v /= 36) tail += alphabet[v % 36];
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.now.time_since_epoch());
  return std::to_string(ms.count()) + tail;
}

}  // namespace

reply bandwidth(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = error(status_of(*f, 429), "max-message-queue-size-exceeded",
                      "The SMS queue for your account is full and cannot accept more messages "
                      "right now.",
                      outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error) {
    const int status = status_of(*f, 503);
    return error(status, status == 503 ? "service-unavailable" : "internal-server-error",
                 "The service is temporarily unavailable.", outcome::faulted);
  }

  const auto& c = ctx.creds.bandwidth;
  auto user = basic_credentials(r.headers);
  const bool authenticated = (user && user->first == c.username && user->second == c.password) ||
                             bearer_is(r.headers, c.token);
  if (!authenticated)
    return error(401, "unauthorized", "Authentication Failed", outcome::unauthorized);
  if (middle_segment(r.path, "/api/v2/users/", "/messages") != c.account_id)
    return error(403, "forbidden", "Access is denied", outcome::unauthorized);

  if (media_type(r.headers) != "application/json")
    return error(415, "unsupported-content-type", "Content-Type must be application/json.",
                 outcome::invalid);
  auto root = wire::parse_json(r.body);
  if (!root || !root->is_object())
    return error(400, "request-validation", "The request body is not valid JSON.",
                 outcome::invalid);
  const json::value* to = wire::member(&*root, "to");
  const std::string from = wire::scalar_text(wire::member(&*root, "from")).value_or("");
  const std::string text = wire::scalar_text(wire::member(&*root, "text")).value_or("");
  const std::string app = wire::scalar_text(wire::member(&*root, "applicationId")).value_or("");
  const std::string tag = wire::scalar_text(wire::member(&*root, "tag")).value_or("");
  if (to == nullptr || !to->is_array() || to->get_array().empty() || to->get_array().size() > 10)
    return error(400, "request-validation", "'to' must be an array of 1 to 10 numbers",
                 outcome::invalid);
  if (from.empty()) return error(400, "request-validation", "'from' is required", outcome::invalid);
  if (app != c.application_id)
    return error(400, "request-validation", "'applicationId' is not an application of this account",
                 outcome::invalid);
  if (text.empty() && !wire::member(&*root, "media"))
    return error(400, "request-validation", "'text' or 'media' is required", outcome::invalid);
  for (const auto& n : to->get_array()) {
    auto s = wire::scalar_text(&n);
    if (!s || !plausible_e164(*s) || (f && f->kind == fault_kind::permanent))
      return error(f ? status_of(*f, 400) : 400, "request-validation",
                   "'" + s.value_or("") + "' must be a valid E164 phone number",
                   f ? outcome::faulted : outcome::invalid);
  }

  json::object o;
  const std::string id = message_id(ctx);
  o["id"] = id;
  o["owner"] = from;
  o["applicationId"] = app;
  o["time"] = rfc3339_ms(ctx.now);
  o["segmentCount"] = 1;
  o["direction"] = "out";
  o["to"] = *to;
  o["from"] = from;
  o["text"] = text;
  if (!tag.empty()) o["tag"] = tag;
  o["priority"] = "default";
  reply out = json_reply(202, o, outcome::accepted);
  out.message_id = id;
  if (f && f->kind == fault_kind::opted_out) {
    // Accepted now; the carrier reports destination-rejected-due-to-user-opt-out later.
    out.result = outcome::faulted;
    out.async_error = "4775";
  }
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void bandwidth_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                       [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto now = b.now;
  json::array events{json::object{
      {"type", "message-received"},
      {"time", rfc3339_ms(now)},
      {"description", "Incoming message received"},
      {"to", m.to},
      {"message",
       json::object{{"id", m.carrier_message_id},
                    {"owner", m.to},
                    {"applicationId", c.creds<config::bandwidth_credentials>().application_id},
                    {"time", rfc3339_ms(now)},
                    {"segmentCount", 1},
                    {"direction", "in"},
                    {"to", json::array{json::value(m.to)}},
                    {"from", m.from},
                    {"text", m.body}}}}};
  w.content_type = "application/json; charset=utf-8";
  w.body = json::serialize(events);
}

void bandwidth_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                      [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto now = b.now;
  json::object ev{
      {"type", st.status},
      {"time", rfc3339_ms(now)},
      {"description",
       st.status == "message-delivered" ? "Message delivered to carrier." : "failed"},
      {"to", st.to},
      {"message",
       json::object{{"id", st.carrier_message_id},
                    {"owner", st.from},
                    {"applicationId", c.creds<config::bandwidth_credentials>().application_id},
                    {"time", rfc3339_ms(now)},
                    {"segmentCount", 1},
                    {"direction", "out"},
                    {"to", json::array{json::value(st.to)}},
                    {"from", st.from},
                    {"text", ""}}}};
  if (!st.error_code.empty()) ev["errorCode"] = std::stoll(st.error_code);
  w.content_type = "application/json; charset=utf-8";
  w.body = json::serialize(json::array{std::move(ev)});
}

void bandwidth_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                    [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  auto& k = c.creds<config::bandwidth_credentials>();
  w.headers.emplace_back("Authorization", sig::bandwidth_authorization(
                                              k.webhook_username, k.webhook_password.reveal()));
}

// Its credentials: what the fake expects (its config file's "bandwidth" section) and the gateway
// settings that carry them.
boost::system::error_code bandwidth_read(const json::object& o, std::string_view key,
                                         credentials& c, std::string& detail) {
  return read_fields(o, key,
                     {{"account_id", &c.bandwidth.account_id},
                      {"application_id", &c.bandwidth.application_id},
                      {"username", &c.bandwidth.username},
                      {"password", &c.bandwidth.password},
                      {"token", &c.bandwidth.token}},
                     detail);
}

void bandwidth_settings(config::carrier_settings& s, const credentials& c,
                        [[maybe_unused]] std::string_view base_url) {
  config::bandwidth_credentials b;
  b.account_id = c.bandwidth.account_id;
  b.application_id = c.bandwidth.application_id;
  b.username = c.bandwidth.username;
  b.password = config::secret::from_inline(c.bandwidth.password);
  b.token = config::secret::from_inline(c.bandwidth.token);
  s.credentials = std::move(b);
}

extern const carrier_row bandwidth_row{config::carrier_type::bandwidth,
                                       &bandwidth,
                                       &bandwidth_inbound,
                                       &bandwidth_status,
                                       &bandwidth_sign,
                                       &bandwidth_read,
                                       &bandwidth_settings};

}  // namespace stopgate::fake_carrier::dialect
