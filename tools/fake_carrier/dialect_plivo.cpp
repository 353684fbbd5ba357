// Plivo: POST /v1/Account/{auth_id}/Message/, JSON, HTTP Basic auth_id:auth_token
// (carriers.md 5.1). Plivo reports opt-outs only in a later status callback (ErrorCode 200),
// so the opted_out fault accepts the message.
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/plivo/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

// Plivo's error body: {"api_id", "error"}.
reply error(int status, std::string_view message, outcome result, const answer_context& ctx) {
  return json_reply(status, json::object{{"api_id", uuid(ctx.ids)}, {"error", message}}, result);
}

}  // namespace

reply plivo(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = error(status_of(*f, 429), "too many requests", outcome::faulted, ctx);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return error(status_of(*f, 503), "service unavailable", outcome::faulted, ctx);

  const auto& c = ctx.creds.plivo;
  auto user = basic_credentials(r.headers);
  if (!user || user->first != c.auth_id || user->second != c.auth_token ||
      middle_segment(r.path, "/v1/Account/", "/Message/") != c.auth_id)
    return error(401, "authentication failed: invalid auth_id or auth_token", outcome::unauthorized,
                 ctx);

  auto root = media_type(r.headers) == "application/json" ? wire::parse_json(r.body) : std::nullopt;
  if (!root || !root->is_object())
    return error(400, "invalid JSON data received", outcome::invalid, ctx);
  const std::string src = wire::scalar_text(wire::member(&*root, "src")).value_or("");
  const std::string dst = wire::scalar_text(wire::member(&*root, "dst")).value_or("");
  const std::string text = wire::scalar_text(wire::member(&*root, "text")).value_or("");
  if (src.empty() && !wire::member(&*root, "powerpack_uuid"))
    return error(400, "Missing mandatory parameter: src or powerpack_uuid", outcome::invalid, ctx);
  if (dst.empty()) return error(400, "Missing mandatory parameter: dst", outcome::invalid, ctx);
  if (text.empty()) return error(400, "Missing mandatory parameter: text", outcome::invalid, ctx);
  if (!plausible_msisdn(dst) || (f && f->kind == fault_kind::permanent))
    return error(f ? status_of(*f, 400) : 400, "invalid dst: " + dst,
                 f ? outcome::faulted : outcome::invalid, ctx);

  const std::string id = uuid(ctx.ids);
  json::object o;
  o["api_id"] = uuid(ctx.ids);
  o["message"] = "message(s) queued";
  o["message_uuid"] = json::array{json::string(id)};
  reply out = json_reply(202, o, outcome::accepted);
  out.message_id = id;
  if (f && f->kind == fault_kind::opted_out) {
    out.result = outcome::faulted;
    out.async_error = "200";
  }
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void plivo_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                   [[maybe_unused]] const build& b) {
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
}

void plivo_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                  [[maybe_unused]] const build& b) {
  p = {{"MessageUUID", st.carrier_message_id},
       {"Status", st.status},
       {"To", digits(st.to)},
       {"From", digits(st.from)},
       {"Type", "sms"},
       {"Units", "1"}};
  if (!st.error_code.empty()) p.emplace_back("ErrorCode", st.error_code);
  w.content_type = "application/x-www-form-urlencoded";
  w.body = form(p);
}

void plivo_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const std::string_view url = b.url;
  w.headers.emplace_back(
      "X-Plivo-Signature-V3",
      sig::plivo_v3_sign(c.creds<config::plivo_credentials>().auth_token.reveal(), w.method, url,
                         nonce, p));
  w.headers.emplace_back("X-Plivo-Signature-V3-Nonce", std::string(nonce));
}

// Its credentials: what the fake expects (its config file's "plivo" section) and the gateway
// settings that carry them.
boost::system::error_code plivo_read(const json::object& o, std::string_view key, credentials& c,
                                     std::string& detail) {
  return read_fields(o, key, {{"auth_id", &c.plivo.auth_id}, {"auth_token", &c.plivo.auth_token}},
                     detail);
}

void plivo_settings(config::carrier_settings& s, const credentials& c,
                    [[maybe_unused]] std::string_view base_url) {
  s.credentials =
      config::plivo_credentials{c.plivo.auth_id, config::secret::from_inline(c.plivo.auth_token)};
}

extern const carrier_row plivo_row{config::carrier_type::plivo,
                                   &plivo,
                                   &plivo_inbound,
                                   &plivo_status,
                                   &plivo_sign,
                                   &plivo_read,
                                   &plivo_settings};

}  // namespace stopgate::fake_carrier::dialect
