// Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form
// body, HTTP Basic AccountSid:AuthToken (carriers.md section 1.1).
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/twilio/signature.hpp"

#include <date/date.h>
#include <boost/json.hpp>

#include "carriers/wire/webhook_fields.hpp"

#include <boost/json/object.hpp>

#include <date/date.h>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;

// Twilio's error body: {"code", "message", "more_info", "status"}.
reply error(int status, int code, std::string_view message, outcome result) {
  json::object o;
  o["code"] = code;
  o["message"] = message;
  o["more_info"] = "https://www.twilio.com/docs/errors/" + std::to_string(code);
  o["status"] = status;
  return json_reply(status, o, result);
}

std::string param(const carriers::wire::param_list& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

}  // namespace

reply twilio(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
  if (f && f->kind == fault_kind::rate_limit) {
    reply out = error(status_of(*f, 429), 20429, "Too Many Requests", outcome::faulted);
    add_retry_after(out, *f);
    return out;
  }
  if (f && f->kind == fault_kind::server_error) {
    const int status = status_of(*f, 503);
    return error(status, status == 503 ? 20503 : 20500,
                 status == 503 ? "Service Unavailable" : "Internal Server Error", outcome::faulted);
  }

  const auto& c = ctx.creds.twilio;
  auto user = basic_credentials(r.headers);
  auto sid = middle_segment(r.path, "/2010-04-01/Accounts/", "/Messages.json");
  if (!user)
    return error(401, 20003, "Authentication Error - No credentials provided",
                 outcome::unauthorized);
  if (user->first != c.account_sid || user->second != c.auth_token || sid != c.account_sid)
    return error(401, 20003, "Authentication Error - invalid username", outcome::unauthorized);

  // A body that is not a form reads as no parameters at all, as at Twilio.
  auto parsed = carriers::wire::form_params(media_type(r.headers), r.body, {});
  carriers::wire::param_list params = parsed ? std::move(*parsed) : carriers::wire::param_list{};
  const std::string to = param(params, "To"), from = param(params, "From"),
                    body = param(params, "Body");
  if (to.empty()) return error(400, 21604, "A 'To' phone number is required.", outcome::invalid);
  if (from.empty() && param(params, "MessagingServiceSid").empty())
    return error(400, 21603, "A 'From' phone number is required.", outcome::invalid);
  if (body.empty() && param(params, "MediaUrl").empty() && param(params, "ContentSid").empty())
    return error(400, 21602, "Message body is required.", outcome::invalid);
  if (!plausible_e164(to) || (f && f->kind == fault_kind::permanent))
    return error(f ? status_of(*f, 400) : 400, 21211,
                 "The 'To' number " + to + " is not a valid phone number.",
                 f ? outcome::faulted : outcome::invalid);
  if (f && f->kind == fault_kind::opted_out)
    return error(status_of(*f, 400), 21610,
                 "Message cannot be sent to the 'To' number because the customer has replied "
                 "with STOP",
                 outcome::faulted);

  const std::string id = "SM" + hex(ctx.ids.instance(), 16) + hex(ctx.ids.next(), 16);
  const std::string date =
      date::format("%a, %d %b %Y %T +0000", date::floor<std::chrono::seconds>(ctx.now));
  const std::string uri = "/2010-04-01/Accounts/" + c.account_sid + "/Messages/" + id;
  json::object o;
  o["account_sid"] = c.account_sid;
  o["api_version"] = "2010-04-01";
  o["body"] = body;
  o["date_created"] = date;
  o["date_sent"] = nullptr;
  o["date_updated"] = date;
  o["direction"] = "outbound-api";
  o["error_code"] = nullptr;
  o["error_message"] = nullptr;
  o["from"] = from;
  o["messaging_service_sid"] = nullptr;
  o["num_media"] = "0";
  o["num_segments"] = "1";
  o["price"] = nullptr;
  o["price_unit"] = "USD";
  o["sid"] = id;
  o["status"] = "queued";
  o["subresource_uris"] = json::object{{"media", uri + "/Media.json"}};
  o["to"] = to;
  o["uri"] = uri + ".json";
  reply out = json_reply(201, o, outcome::accepted);
  out.message_id = id;
  return out;
}

// Its webhooks, as the carrier sends them (inbound message, delivery status) and signs them.
void twilio_inbound(webhook& w, [[maybe_unused]] params& p, const inbound_spec& m,
                    [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
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
}

void twilio_status(webhook& w, [[maybe_unused]] params& p, const status_spec& st,
                   [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
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
}

void twilio_sign(webhook& w, [[maybe_unused]] params p, [[maybe_unused]] std::string_view nonce,
                 [[maybe_unused]] const build& b) {
  const config::carrier_settings& c = b.c;
  const std::string_view url = b.url;
  w.headers.emplace_back(
      "X-Twilio-Signature",
      sig::twilio_sign(c.creds<config::twilio_credentials>().auth_token.reveal(), url, p));
}

// Its credentials: what the fake expects (its config file's "twilio" section) and the gateway
// settings that carry them.
boost::system::error_code twilio_read(const json::object& o, std::string_view key, credentials& c,
                                      std::string& detail) {
  return read_fields(o, key,
                     {{"account_sid", &c.twilio.account_sid}, {"auth_token", &c.twilio.auth_token}},
                     detail);
}

void twilio_settings(config::carrier_settings& s, const credentials& c,
                     [[maybe_unused]] std::string_view base_url) {
  s.credentials = config::twilio_credentials{c.twilio.account_sid,
                                             config::secret::from_inline(c.twilio.auth_token)};
}

extern const carrier_row twilio_row{config::carrier_type::twilio,
                                    &twilio,
                                    &twilio_inbound,
                                    &twilio_status,
                                    &twilio_sign,
                                    &twilio_read,
                                    &twilio_settings};

}  // namespace stopgate::fake_carrier::dialect
