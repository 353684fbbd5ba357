// The generic `http` carrier (docs/CARRIERS.md, "Generic HTTP"): a JSON POST to the
// configured path carrying the configured headers; errors {"error": {"code", "message"}}.
// A GET to the same path is the request of Kannel's generic HTTP SMSC (smsc = http,
// system-type = generic: send-url "...?from=%P&to=%p&text=%b"): the message in the query
// (`to`, `from`, `text`; `to` E.164 or bare digits), each configured header either as a
// header or as a query parameter of the same name (Kannel cannot add headers); answered
// 202 text/plain "Accepted: <id>" (Kannel matches its status-success-regex against the body).
#include "tools/fake_carrier/dialect.hpp"
#include "tools/fake_carrier/error.hpp"

#include "carriers/sandbox/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

reply error(int status, std::string_view code, std::string_view message, outcome result) {
  return json_reply(
      status, json::object{{"error", json::object{{"code", code}, {"message", message}}}}, result);
}

reply text_reply(int status, std::string body, outcome result) {
  reply out;
  out.status = status;
  out.content_type = "text/plain";
  out.body = std::move(body);
  out.result = result;
  return out;
}

// The first value of `name` in `p` ("" when absent).
std::string query_param(const wire::param_list& p, std::string_view name) {
  for (const auto& [k, v] : p)
    if (k == name) return v;
  return {};
}

// Kannel's generic HTTP SMSC: GET path?to=..&from=..&text=..
reply kannel_generic(const request_view& r, const std::optional<fault>& f,
                     const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = text_reply(status_of(*f, 429), "rate limited", outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return text_reply(status_of(*f, 503), "unavailable", outcome::faulted);
  auto parsed = wire::form_params("", "", r.query);
  if (!parsed) return text_reply(400, "bad query", outcome::invalid);
  const wire::param_list& q = *parsed;
  for (const auto& [name, value] : ctx.creds.http.headers) {
    const auto header = wire::find_header(r.headers, name);
    if (header != std::string_view(value) && query_param(q, name) != value)
      return text_reply(401, "unauthorized: missing or wrong " + name, outcome::unauthorized);
  }
  for (std::string_view field : {"to", "from", "text"})
    if (query_param(q, field).empty())
      return text_reply(400, "missing parameter: " + std::string(field), outcome::invalid);
  const std::string to = query_param(q, "to");
  if (!(plausible_e164(to) || plausible_msisdn(to)) || (f && f->kind == fault_kind::permanent))
    return text_reply(f ? status_of(*f, 400) : 400, "invalid number",
                      f ? outcome::faulted : outcome::invalid);
  if (f && f->kind == fault_kind::opted_out)
    return text_reply(status_of(*f, 400), "recipient opted out", outcome::faulted);
  const std::string id = "fake-" + hex(ctx.ids.instance(), 16) + hex(ctx.ids.next(), 16);
  reply out = text_reply(202, "Accepted: " + id, outcome::accepted);
  out.message_id = id;
  return out;
}

}  // namespace

reply generic(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (r.method == "GET") return kannel_generic(r, f, ctx);
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = error(status_of(*f, 429), "rate_limited", "too many requests", outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return error(status_of(*f, 503), "unavailable", "service unavailable", outcome::faulted);

  for (const auto& [name, value] : ctx.creds.http.headers)
    if (wire::find_header(r.headers, name) != std::string_view(value))
      return error(401, "unauthorized", "missing or wrong " + name, outcome::unauthorized);

  auto root = media_type(r.headers) == "application/json" ? wire::parse_json(r.body) : std::nullopt;
  if (!root || !root->is_object())
    return error(400, "bad_request", "the body must be a JSON object", outcome::invalid);
  const std::string to = wire::scalar_text(wire::member(&*root, "to")).value_or("");
  for (std::string_view field : {"to", "from", "body"})
    if (wire::scalar_text(wire::member(&*root, field)).value_or("").empty())
      return error(400, "bad_request", "missing field: " + std::string(field), outcome::invalid);
  if (!plausible_e164(to) || (f && f->kind == fault_kind::permanent))
    return error(f ? status_of(*f, 400) : 400, "invalid_number", "'" + to + "' is not valid",
                 f ? outcome::faulted : outcome::invalid);
  if (f && f->kind == fault_kind::opted_out)
    return error(status_of(*f, 400), "recipient_opted_out", "the recipient opted out",
                 outcome::faulted);

  const std::string id = "fake-" + hex(ctx.ids.instance(), 16) + hex(ctx.ids.next(), 16);
  reply out = json_reply(200, json::object{{"id", id}, {"status", "queued"}}, outcome::accepted);
  out.message_id = id;
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void generic_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                     [[maybe_unused]] const build& b) {
  json::object o{
      {"message_id", m.carrier_message_id}, {"from", m.from}, {"to", m.to}, {"body", m.body}};
  w.content_type = "application/json";
  w.body = json::serialize(o);
}

void generic_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                    [[maybe_unused]] const build& b) {
  json::object o{{"message_id", st.carrier_message_id},
                 {"status", st.status},
                 {"to", st.to},
                 {"from", st.from}};
  if (!st.error_code.empty()) o["error_code"] = st.error_code;
  w.content_type = "application/json";
  w.body = json::serialize(o);
}

void generic_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                  [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto ts = unix_seconds(b.now);
  const auto& secret = c.type == config::carrier_type::http
                           ? c.creds<config::http_credentials>().webhook_secret
                           : c.creds<config::sandbox_credentials>().webhook_secret;
  if (secret.empty()) return;  // unsigned: accepted from loopback peers (sandbox only)
  w.headers.emplace_back("X-Stopgate-Timestamp", std::to_string(ts));
  w.headers.emplace_back("X-Stopgate-Signature", sig::sandbox_sign(secret.reveal(), ts, w.body));
}

// The credentials of the generic HTTP carrier: its path and headers (the sandbox has none).
boost::system::error_code generic_read(const json::object& obj, std::string_view, credentials& c,
                                       std::string& detail) {
  credentials::http_creds& h = c.http;
  for (const auto& [key, value] : obj) {
    if (key == "path") {
      if (!value.is_string() || !value.get_string().starts_with("/")) {
        detail = "http.path must be a string starting with '/'";
        return fake_errc::bad_value;
      }
      h.path = std::string(value.get_string());
    } else if (key == "headers") {
      if (!value.is_object()) {
        detail = "http.headers must be an object of strings";
        return fake_errc::bad_value;
      }
      h.headers.clear();
      for (const auto& [name, v] : value.get_object()) {
        if (!v.is_string()) {
          detail = "http.headers." + std::string(name) + " must be a string";
          return fake_errc::bad_value;
        }
        h.headers.emplace_back(std::string(name), std::string(v.get_string()));
      }
    } else {
      detail = "http." + std::string(key);
      return fake_errc::unknown_key;
    }
  }
  return {};
}

void generic_settings(config::carrier_settings& s, const credentials& c,
                      std::string_view base_url) {
  config::http_credentials h;
  h.url = std::string(base_url) + c.http.path;
  for (const auto& [name, value] : c.http.headers)
    h.headers.emplace_back(name, config::secret::from_inline(value));
  s.base_url.clear();
  s.credentials = std::move(h);
}

boost::system::error_code sandbox_read(const json::object&, std::string_view, credentials&,
                                       std::string&) {
  return {};
}

void sandbox_settings(config::carrier_settings&, const credentials&, std::string_view) {}

extern const carrier_row http_row{config::carrier_type::http,
                                  &generic,
                                  &generic_inbound,
                                  &generic_status,
                                  &generic_sign,
                                  &generic_read,
                                  &generic_settings};
extern const carrier_row sandbox_row{config::carrier_type::sandbox,
                                     &generic,
                                     &generic_inbound,
                                     &generic_status,
                                     &generic_sign,
                                     &sandbox_read,
                                     &sandbox_settings};

}  // namespace stopgate::fake_carrier::dialect
