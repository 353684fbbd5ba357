#include "gateway/queue/payload.hpp"

#include <boost/json.hpp>

namespace stopgate::gateway::queue {

namespace json = boost::json;

namespace {

std::int64_t micros(dnc::model::sys_time t) {
  return t.time_since_epoch().count();
}
dnc::model::sys_time from_micros(std::int64_t us) {
  return dnc::model::sys_time(std::chrono::microseconds(us));
}

}  // namespace

std::string encode(const queued_payload& p) {
  json::object o{{"to", p.to},
                 {"sender", p.sender},
                 {"from", p.from},
                 {"body", p.body},
                 {"purpose", p.purpose == config::purpose::marketing ? "marketing" : "informational"},
                 {"queued_at", micros(p.queued_at)},
                 {"queued_evidence_id", p.queued_evidence_id}};
  json::array route;
  for (const auto& c : p.route) route.emplace_back(c);
  o["route"] = std::move(route);
  if (!p.campaign.empty()) o["campaign"] = p.campaign;
  if (!p.idempotency_key.empty()) o["idempotency_key"] = p.idempotency_key;
  if (!p.api_key.empty()) o["api_key"] = p.api_key;
  if (p.send_at) o["send_at"] = micros(*p.send_at);
  if (p.expires_at) o["expires_at"] = micros(*p.expires_at);
  return json::serialize(o);
}

std::optional<queued_payload> decode(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  queued_payload p;
  auto str = [&](std::string_view k, std::string& out, bool required) {
    auto* e = o.if_contains(k);
    if (!e) return !required;
    if (!e->is_string()) return false;
    out = std::string(e->get_string());
    return true;
  };
  auto time = [&](std::string_view k, std::optional<dnc::model::sys_time>& out) {
    auto* e = o.if_contains(k);
    if (!e) return true;
    if (!e->is_int64()) return false;
    out = from_micros(e->get_int64());
    return true;
  };
  std::string purpose;
  if (!str("to", p.to, true) || !str("sender", p.sender, true) || !str("from", p.from, true) ||
      !str("body", p.body, true) || !str("purpose", purpose, true) ||
      !str("campaign", p.campaign, false) || !str("idempotency_key", p.idempotency_key, false) ||
      !str("api_key", p.api_key, false) ||
      !str("queued_evidence_id", p.queued_evidence_id, false) || !time("send_at", p.send_at) ||
      !time("expires_at", p.expires_at))
    return std::nullopt;
  p.purpose = purpose == "informational" ? config::purpose::informational : config::purpose::marketing;
  auto* q = o.if_contains("queued_at");
  if (!q || !q->is_int64()) return std::nullopt;
  p.queued_at = from_micros(q->get_int64());
  auto* r = o.if_contains("route");
  if (!r || !r->is_array() || r->get_array().empty()) return std::nullopt;
  for (const auto& c : r->get_array()) {
    if (!c.is_string()) return std::nullopt;
    p.route.emplace_back(c.get_string());
  }
  return p;
}

}  // namespace stopgate::gateway::queue
