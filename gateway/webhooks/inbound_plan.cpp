#include "gateway/webhooks/inbound_plan.hpp"

#include "gateway/rfc3339.hpp"
#include "gateway/webhooks/carrier_number.hpp"
#include "gateway/webhooks/carrier_text.hpp"

namespace stopgate::gateway::webhooks {
namespace {

namespace json = boost::json;
using dnc::keywords::keyword_class;

struct body_class {
  dnc::keywords::keyword_result result;
  bool latin1 = false;  // decided by the Latin-1 reading of a body that is not UTF-8
};

int opt_out_rank(keyword_class c) noexcept {
  return c == keyword_class::opt_out_all ? 2 : c == keyword_class::opt_out ? 1 : 0;
}

// The classifier reads bytes that are not UTF-8 as separators ("STOP\xFF" is STOP). A Latin-1
// body ("Arr\xEAt") reads right only with them as Latin-1 letters, so that reading is tried
// too, and an opt-out found by either one stands: an opt-out is never lost to an encoding.
body_class classify_body(const dnc::keywords::keyword_classifier& k, std::string_view body) {
  body_class out{k.classify(body), false};
  if (is_utf8(body)) return out;
  auto alt = k.classify(utf8_from_latin1_bytes(body));
  if (opt_out_rank(alt.cls) > opt_out_rank(out.result.cls)) out = {std::move(alt), true};
  return out;
}

}  // namespace

inbound_plan plan_inbound(const config::settings& s, const config::carrier_settings& carrier,
                          const carriers::inbound_message& m, const classifier_set& k,
                          dnc::model::sys_time at) {
  inbound_plan p;
  // Numbers read as the socket API reads them, with the carrier's default country: a number
  // that cannot be read without guessing its country keys nothing.
  const carrier_number from_n = read_carrier_number(m.from, carrier.default_country);
  const carrier_number to_n = read_carrier_number(m.to, carrier.default_country);
  if (from_n.is_number()) p.from = from_n.number;
  p.from_text = from_n.text;
  p.to = to_n.text;
  p.sender = s.sender_for_number(p.to);
  const body_class kw = classify_body(k.for_sender(p.sender), m.body);
  const keyword_class c = kw.result.cls;
  p.cls = std::string(dnc::keywords::to_string(c));
  p.match = std::string(dnc::keywords::to_string(kw.result.kind));
  p.source = "sms:" + carrier.name;

  if (p.from && (c == keyword_class::opt_out || c == keyword_class::opt_out_all))
    p.effect = inbound_effect::opt_out;
  else if (p.from && p.sender && c == keyword_class::opt_in)
    p.effect = inbound_effect::opt_in;
  // A STOP to a number no sender owns still stops everything: never lose an opt-out.
  p.scope = c == keyword_class::opt_out_all || !p.sender ? "*" : p.sender->name;

  const std::string when = format_rfc3339(at);
  json::object rec{{"carrier", carrier.name},
                   {"carrier_type", std::string(config::to_string(carrier.type))},
                   {"sender", p.sender ? json::value(p.sender->name) : json::value(nullptr)},
                   {"class", p.cls},
                   {"match", p.match},
                   {"matched", kw.result.matched},
                   {"received_at", when}};
  // The carrier's own text is recorded losslessly (`<field>_b64` beside what is not UTF-8).
  put_text(rec, "carrier_message_id", m.carrier_message_id);
  put_number(rec, "from", m.from, from_n);
  put_number(rec, "to", m.to, to_n);
  put_text(rec, "body", m.body);
  if (kw.latin1) rec["body_reading"] = "latin1";
  if (!m.carrier_intent.empty()) put_text(rec, "carrier_intent", m.carrier_intent);
  p.records.push_back({evidence::record_type::inbound, std::move(rec), {}, 0});

  switch (p.effect) {
    case inbound_effect::opt_out: {
      json::object o{{"to", p.from->e164()}, {"sender", p.scope},  {"channel", "sms"},
                     {"source", p.source},   {"at", when},         {"match", p.match}};
      put_text(o, "carrier_message_id", m.carrier_message_id);
      put_text(o, "written_to", p.to);
      p.records.push_back({evidence::record_type::optout, std::move(o), "inbound_evidence_id", 0});
      if (p.sender && !p.sender->optout_reply.empty())
        p.reply = {"optout", p.sender->optout_reply, true, false};
      break;
    }
    case inbound_effect::opt_in: {
      // A keyword reply is prior express consent, not express written consent: it carries no
      // signed disclosure (rules.md 1.2), so marketing that needs PEWC stays blocked by policy.
      json::object o{{"to", p.from->e164()},  {"sender", p.sender->name},
                     {"kind", "express"},     {"captured_at", when},
                     {"method", "keyword"},   {"keyword", kw.result.matched}};
      put_text(o, "carrier_message_id", m.carrier_message_id);
      p.records.push_back({evidence::record_type::optin, std::move(o), "inbound_evidence_id", 0});
      // Confirmed only when nothing still blocks the number (a STOPALL is not lifted by START).
      if (!p.sender->optin_reply.empty()) p.reply = {"optin", p.sender->optin_reply, false, true};
      break;
    }
    case inbound_effect::none:
      if (c == keyword_class::help && p.from && p.sender && !p.sender->help_reply.empty())
        p.reply = {"help", p.sender->help_reply, false, false};
      p.forward = c == keyword_class::other && p.sender && !p.sender->forward_url.empty();
      break;
  }
  return p;
}

}  // namespace stopgate::gateway::webhooks
