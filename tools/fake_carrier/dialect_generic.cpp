// The generic `http` carrier (docs/CARRIERS.md, "Generic HTTP"): a JSON POST to the
// configured path carrying the configured headers; errors {"error": {"code", "message"}}.
#include "tools/fake_carrier/dialect.hpp"

#include "carriers/wire/response.hpp"

#include <boost/json/object.hpp>

namespace stopgate::fake_carrier::dialect {
namespace {

namespace json = boost::json;
namespace wire = carriers::wire;

reply error(int status, std::string_view code, std::string_view message, outcome result) {
  return json_reply(
      status, json::object{{"error", json::object{{"code", code}, {"message", message}}}},
      result);
}

}  // namespace

reply generic(const request_view& r, const std::optional<fault>& f, const answer_context& ctx) {
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

  auto root = media_type(r.headers) == "application/json" ? wire::parse_json(r.body)
                                                          : std::nullopt;
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

}  // namespace stopgate::fake_carrier::dialect
