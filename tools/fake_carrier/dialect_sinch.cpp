// Sinch SMS REST API ("xms"): POST /xms/v1/{service_plan_id}/batches, JSON, Authorization:
// Bearer <API token> (carriers.md 6.1). Sinch has no synchronous opt-out error; a later
// delivery report says "Deleted", so the opted_out fault accepts the batch.
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/sinch/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

// Sinch's error body: {"code", "text"}.
reply error(int status, std::string_view code, std::string_view text, outcome result) {
  return json_reply(status, json::object{{"code", code}, {"text", text}}, result);
}

// Batch ids: 26 characters of Crockford base32, like a ULID.
std::string batch_id(const answer_context& ctx) {
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  std::uint64_t hi = ctx.ids.instance(), lo = ctx.ids.next();
  for (int i = 0; i < 13; ++i, hi >>= 5) out += alphabet[hi & 31];
  for (int i = 0; i < 13; ++i, lo >>= 5) out += alphabet[lo & 31];
  return out;
}

}  // namespace

reply sinch(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out =
        error(status_of(*f, 429), "too_many_requests", "Too many requests", outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return error(status_of(*f, 503), "internal_error", "Service temporarily unavailable",
                 outcome::faulted);

  const auto& c = ctx.creds.sinch;
  if (!bearer_is(r.headers, c.api_token) ||
      middle_segment(r.path, "/xms/v1/", "/batches") != c.service_plan_id)
    return error(401, "unauthorized", "Unauthorized", outcome::unauthorized);

  auto root = media_type(r.headers) == "application/json" ? wire::parse_json(r.body) : std::nullopt;
  if (!root || !root->is_object())
    return error(400, "syntax_invalid_json", "The JSON body is invalid", outcome::invalid);
  const json::value* to = wire::member(&*root, "to");
  const std::string from = wire::scalar_text(wire::member(&*root, "from")).value_or("");
  const std::string body = wire::scalar_text(wire::member(&*root, "body")).value_or("");
  if (to == nullptr || !to->is_array() || to->get_array().empty() || to->get_array().size() > 1000)
    return error(400, "syntax_constraint_violation", "to: must contain 1 to 1000 recipients",
                 outcome::invalid);
  if (from.empty())
    return error(400, "syntax_constraint_violation", "from: must not be empty", outcome::invalid);
  if (body.empty() || body.size() > 2000)
    return error(400, "syntax_constraint_violation", "body: must be 1 to 2000 characters",
                 outcome::invalid);
  for (const auto& n : to->get_array()) {
    auto s = wire::scalar_text(&n);
    if (!s || !plausible_e164(*s) || (f && f->kind == fault_kind::permanent))
      return error(f ? status_of(*f, 400) : 400, "syntax_constraint_violation",
                   "to: invalid recipient '" + s.value_or("") + "'",
                   f ? outcome::faulted : outcome::invalid);
  }

  const std::string id = batch_id(ctx);
  const std::string now = rfc3339_ms(ctx.now);
  json::object o;
  o["id"] = id;
  o["to"] = *to;
  o["from"] = from;
  o["canceled"] = false;
  o["body"] = body;
  o["type"] = "mt_text";
  o["created_at"] = now;
  o["modified_at"] = now;
  o["delivery_report"] =
      wire::scalar_text(wire::member(&*root, "delivery_report")).value_or("none");
  if (auto ref = wire::scalar_text(wire::member(&*root, "client_reference")))
    o["client_reference"] = *ref;
  if (auto cb = wire::scalar_text(wire::member(&*root, "callback_url"))) o["callback_url"] = *cb;
  o["flash_message"] = false;
  reply out = json_reply(201, o, outcome::accepted);
  out.message_id = id;
  if (f && f->kind == fault_kind::opted_out) {
    out.result = outcome::faulted;
    out.async_error = "Deleted";
  }
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void sinch_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                   [[maybe_unused]] const build& b) {
  const auto now = b.now;
  json::object o{{"id", m.carrier_message_id},
                 {"type", "mo_text"},
                 {"from", digits(m.from)},
                 {"to", digits(m.to)},
                 {"body", m.body},
                 {"operator_id", "310260"},
                 {"sent_at", rfc3339_ms(now)},
                 {"received_at", rfc3339_ms(now)}};
  w.content_type = "application/json";
  w.body = json::serialize(o);
}

void sinch_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                  [[maybe_unused]] const build& b) {
  const auto now = b.now;
  json::object o{{"type", "recipient_delivery_report_sms"},
                 {"batch_id", st.carrier_message_id},
                 {"recipient", digits(st.to)},
                 {"code", st.error_code.empty() ? 0 : std::stoll(st.error_code)},
                 {"status", st.status},
                 {"at", rfc3339_ms(now)}};
  w.content_type = "application/json";
  w.body = json::serialize(o);
}

void sinch_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto ts = unix_seconds(b.now);
  const auto secret = c.creds<config::sinch_credentials>().webhook_secret.reveal();
  w.headers.emplace_back("x-sinch-webhook-signature", sig::sinch_sign(secret, w.body, nonce, ts));
  w.headers.emplace_back("x-sinch-webhook-signature-algorithm", "HmacSHA256");
  w.headers.emplace_back("x-sinch-webhook-signature-nonce", std::string(nonce));
  w.headers.emplace_back("x-sinch-webhook-signature-timestamp", std::to_string(ts));
}

// Its credentials: what the fake expects (its config file's "sinch" section) and the gateway
// settings that carry them.
boost::system::error_code sinch_read(const json::object& o, std::string_view key, credentials& c,
                                     std::string& detail) {
  return read_fields(
      o, key, {{"service_plan_id", &c.sinch.service_plan_id}, {"api_token", &c.sinch.api_token}},
      detail);
}

void sinch_settings(config::carrier_settings& s, const credentials& c,
                    [[maybe_unused]] std::string_view base_url) {
  s.credentials = config::sinch_credentials{
      c.sinch.service_plan_id, config::secret::from_inline(c.sinch.api_token), {}};
}

extern const carrier_row sinch_row{config::carrier_type::sinch,
                                   &sinch,
                                   &sinch_inbound,
                                   &sinch_status,
                                   &sinch_sign,
                                   &sinch_read,
                                   &sinch_settings};

}  // namespace stopgate::fake_carrier::dialect
