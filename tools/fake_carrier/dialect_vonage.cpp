// Vonage SMS API: POST /sms/json, form (or JSON) body carrying api_key and api_secret; the
// answer is HTTP 200 with a per-message status code even for errors (carriers.md 4.1).
#include "tools/fake_carrier/dialect.hpp"

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
    reply out = f->status == 429
                    ? json_reply(429, json::object{{"type", "throttled"},
                                                   {"title", "Too Many Requests"}},
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
  if (f && f->kind == fault_kind::opted_out)
    return error("7", "Number barred.", outcome::faulted);

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

}  // namespace stopgate::fake_carrier::dialect
