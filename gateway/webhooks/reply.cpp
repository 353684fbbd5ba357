#include "gateway/webhooks/reply.hpp"

#include <boost/json.hpp>

namespace stopgate::gateway::webhooks {

namespace json = boost::json;

std::string encode_reply(const reply_item& r) {
  json::object o{{"id", r.id},
                 {"kind", r.kind},
                 {"carrier", r.carrier},
                 {"sender", r.sender},
                 {"from", r.from},
                 {"to", r.to},
                 {"body", r.body},
                 {"ev", r.inbound_evidence_id},
                 {"created_ms", r.created_ms},
                 {"deadline_ms", r.deadline_ms}};
  return json::serialize(o);
}

std::optional<reply_item> decode_reply(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  reply_item r;
  auto str = [&](std::string_view k, std::string& out) {
    auto* x = o.if_contains(k);
    if (!x || !x->is_string()) return false;
    out = std::string(x->get_string());
    return true;
  };
  auto num = [&](std::string_view k, std::int64_t& out) {
    auto* x = o.if_contains(k);
    if (!x || !x->is_int64()) return false;
    out = x->get_int64();
    return true;
  };
  if (!str("id", r.id) || !str("kind", r.kind) || !str("carrier", r.carrier) ||
      !str("sender", r.sender) || !str("from", r.from) || !str("to", r.to) ||
      !str("body", r.body) || !str("ev", r.inbound_evidence_id) ||
      !num("created_ms", r.created_ms) || !num("deadline_ms", r.deadline_ms))
    return std::nullopt;
  return r;
}

}  // namespace stopgate::gateway::webhooks
