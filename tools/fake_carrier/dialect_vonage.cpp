// Vonage SMS API: POST /sms/json, form (or JSON) body carrying api_key and api_secret; the
// answer is HTTP 200 with a per-message status code even for errors (carriers.md 4.1).
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/signature/verify.hpp"
#include "carriers/vonage/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;

// {"message-count": "1", "messages": [{"status", "error-text"}]} in a 200.
reply error(std::string_view status, std::string_view text, outcome result) {
  json::object m{{"status", status}, {"error-text", text}};
  return json_reply(200, json::object{{"message-count", "1"}, {"messages", json::array{m}}},
                    result);
}

std::string param(const carriers::wire::param_list& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

}  // namespace

reply vonage(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    // Vonage signals throttling in the body (status 1); status 429 in the fault asks for the
    // HTTP-level limit instead.
    reply out =
        f->status == 429
            ? json_reply(429, json::object{{"type", "throttled"}, {"title", "Too Many Requests"}},
                         outcome::faulted)
            : error("1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry",
                    outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error)
    return json_reply(status_of(*f, 503),
                      json::object{{"type", "server_error"}, {"title", "Service Unavailable"}},
                      outcome::faulted);

  auto parsed = carriers::wire::form_or_json_params(media_type(r.headers), r.body, {});
  carriers::wire::param_list params = parsed ? std::move(*parsed) : carriers::wire::param_list{};
  const auto& c = ctx.creds.vonage;
  const std::string key = param(params, "api_key"), secret = param(params, "api_secret");
  if (key.empty()) return error("2", "Missing api_key", outcome::unauthorized);
  if (secret.empty()) return error("2", "Missing api_secret", outcome::unauthorized);
  if (key != c.api_key || secret != c.api_secret)
    return error("4", "Bad Credentials", outcome::unauthorized);

  const std::string from = param(params, "from"), to = param(params, "to"),
                    text = param(params, "text"), ref = param(params, "client-ref");
  if (from.empty()) return error("2", "Missing from param", outcome::invalid);
  if (to.empty()) return error("2", "Missing to param", outcome::invalid);
  if (text.empty()) return error("2", "Missing text param", outcome::invalid);
  if (!plausible_msisdn(to) || (f && f->kind == fault_kind::permanent))
    return error("3", "Invalid to param", f ? outcome::faulted : outcome::invalid);
  if (f && f->kind == fault_kind::opted_out) return error("7", "Number barred.", outcome::faulted);

  // Vonage message ids: 16 upper-case hex digits.
  std::string id = hex(ctx.ids.instance() << 32 ^ ctx.ids.next(), 16);
  for (char& ch : id)
    if (ch >= 'a' && ch <= 'f') ch = char(ch - 'a' + 'A');
  json::object m;
  m["to"] = to;
  m["message-id"] = id;
  m["status"] = "0";
  m["remaining-balance"] = "10.00000000";
  m["message-price"] = "0.00680000";
  m["network"] = "310090";
  if (!ref.empty()) m["client-ref"] = ref;
  reply out = json_reply(200, json::object{{"message-count", "1"}, {"messages", json::array{m}}},
                         outcome::accepted);
  out.message_id = id;
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void vonage_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                    [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto now = b.now;
  const signing& keys = b.keys;
  const auto first_space = m.body.find(' ');
  p = {{"msisdn", digits(m.from)},
       {"to", digits(m.to)},
       {"messageId", m.carrier_message_id},
       {"text", m.body},
       {"type", "text"},
       {"keyword", m.body.substr(0, first_space)},
       {"api-key", c.creds<config::vonage_credentials>().api_key},
       {"message-timestamp", date::format("%F %T", std::chrono::floor<std::chrono::seconds>(now))}};
  w.content_type = "application/x-www-form-urlencoded";
  w.body = form(p);
  if (keys.vonage_jwt) {
    // Signed with a JWT the params are the JSON body (POST-JSON webhooks).
    json::object o;
    for (auto& [k, v] : p) o[k] = v;
    w.content_type = "application/json";
    w.body = json::serialize(o);
  }
}

void vonage_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                   [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const auto now = b.now;
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
       {"message-timestamp", date::format("%F %T", std::chrono::floor<std::chrono::seconds>(now))}};
  w.content_type = "application/x-www-form-urlencoded";
  w.body = form(p);
}

void vonage_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                 [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const signing& keys = b.keys;
  const auto ts = unix_seconds(b.now);
  auto& k = c.creds<config::vonage_credentials>();
  if (keys.vonage_jwt) {
    w.headers.emplace_back("Authorization",
                           "Bearer " + sig::vonage_jwt_sign(k.signature_secret.reveal(), ts, w.body,
                                                            std::string(nonce)));
    return;
  }
  // Signed-request params travel in the form itself: rebuild the body with them.
  p.emplace_back("timestamp", std::to_string(ts));
  p.emplace_back("nonce", std::string(nonce));
  p.emplace_back("sig", sig::vonage_sign(p, k.signature_secret.reveal(),
                                         sig::to_vonage_sig_method(k.signature_method)));
  w.body = form(p);
}

// Its credentials: what the fake expects (its config file's "vonage" section) and the gateway
// settings that carry them.
boost::system::error_code vonage_read(const json::object& o, std::string_view key, credentials& c,
                                      std::string& detail) {
  return read_fields(o, key, {{"api_key", &c.vonage.api_key}, {"api_secret", &c.vonage.api_secret}},
                     detail);
}

void vonage_settings(config::carrier_settings& s, const credentials& c,
                     [[maybe_unused]] std::string_view base_url) {
  config::vonage_credentials v;
  v.api_key = c.vonage.api_key;
  v.api_secret = config::secret::from_inline(c.vonage.api_secret);
  s.credentials = std::move(v);
}

extern const carrier_row vonage_row{config::carrier_type::vonage,
                                    &vonage,
                                    &vonage_inbound,
                                    &vonage_status,
                                    &vonage_sign,
                                    &vonage_read,
                                    &vonage_settings};

}  // namespace stopgate::fake_carrier::dialect
