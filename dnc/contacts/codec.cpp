#include "dnc/contacts/codec.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace stopgate::dnc::contacts::contact_codec {
namespace {

namespace json = boost::json;

// Parses into a stack buffer: a stored value is a few hundred bytes, so the tree usually
// needs no heap at all (the resource falls back to the heap for larger ones).
template <class F>
bool with_object(std::string_view text, F&& f) {
  unsigned char buf[2048];
  json::monotonic_resource mr(buf, sizeof buf);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, &mr);
  if (ec || !v.is_object()) return false;
  return f(v.get_object());
}

bool get_string(const json::object& o, std::string_view key, std::string& out, bool required) {
  const json::value* v = o.if_contains(key);
  if (!v) return !required;
  if (!v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool get_time(const json::value* v, model::sys_time& out) {
  if (!v || !v->is_int64()) return false;
  out = model::sys_time(std::chrono::microseconds(v->get_int64()));
  return true;
}

}  // namespace

std::string_view kind_name(model::consent_kind k) noexcept {
  switch (k) {
    case model::consent_kind::express_written:
      return "express_written";
    case model::consent_kind::express:
      return "express";
    case model::consent_kind::ebr_purchase:
      return "ebr_purchase";
    case model::consent_kind::ebr_inquiry:
      return "ebr_inquiry";
  }
  return "express_written";
}

std::optional<model::consent_kind> parse_kind(std::string_view s) noexcept {
  for (auto k : {model::consent_kind::express_written, model::consent_kind::express,
                 model::consent_kind::ebr_purchase, model::consent_kind::ebr_inquiry})
    if (kind_name(k) == s) return k;
  return std::nullopt;
}

std::int64_t to_us(model::sys_time t) noexcept {
  return t.time_since_epoch().count();
}

std::string_view to_decimal(std::int64_t v, char (&buf)[24]) noexcept {
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, std::size_t(r.ptr - buf)};
}

std::string encode_optout(model::sys_time at, std::string_view source,
                          std::string_view evidence_id) {
  json::object o;
  o["at"] = to_us(at);
  o["src"] = source;
  o["ev"] = evidence_id;
  return json::serialize(o);
}

bool decode_optout(std::string_view text, model::optout_fact& out) {
  return with_object(text, [&](const json::object& o) {
    return get_time(o.if_contains("at"), out.at) && get_string(o, "src", out.source, true) &&
           get_string(o, "ev", out.evidence_id, true);
  });
}

std::string encode_consent(const model::consent_fact& c) {
  json::object o;
  o["s"] = c.sender;
  o["k"] = kind_name(c.kind);
  o["at"] = to_us(c.captured_at);
  if (c.expires_at) o["exp"] = to_us(*c.expires_at);
  o["ev"] = c.evidence_id;
  return json::serialize(o);
}

bool decode_consent(std::string_view text, model::consent_fact& out) {
  return with_object(text, [&](const json::object& o) {
    const json::value* k = o.if_contains("k");
    if (!k || !k->is_string()) return false;
    auto kind = parse_kind(std::string_view(k->get_string()));
    if (!kind) return false;
    out.kind = *kind;
    if (const json::value* e = o.if_contains("exp")) {
      model::sys_time t;
      if (!get_time(e, t)) return false;
      out.expires_at = t;
    } else {
      out.expires_at.reset();
    }
    return get_string(o, "s", out.sender, true) && get_time(o.if_contains("at"), out.captured_at) &&
           get_string(o, "ev", out.evidence_id, true);
  });
}

std::string encode_details(const consent_source& s) {
  json::object o;
  o["method"] = s.method;
  o["url"] = s.url;
  o["ip"] = s.ip;
  o["user_agent"] = s.user_agent;
  o["text"] = s.text;
  o["proof"] = s.proof;
  return json::serialize(o);
}

bool decode_details(std::string_view text, consent_source& out) {
  return with_object(text, [&](const json::object& o) {
    return get_string(o, "method", out.method, false) && get_string(o, "url", out.url, false) &&
           get_string(o, "ip", out.ip, false) &&
           get_string(o, "user_agent", out.user_agent, false) &&
           get_string(o, "text", out.text, false) && get_string(o, "proof", out.proof, false);
  });
}

bool parse_contact_members(const redis::reply& z, std::vector<model::sys_time>& out) {
  if (z.kind != redis::reply::type::array) return false;
  out.reserve(out.size() + z.elements.size());
  for (const redis::reply& m : z.elements) {
    // Members are "US:RANDOM"; the time is exact there (the score is a double).
    std::int64_t us = 0;
    const char* b = m.str.data();
    auto [p, ec] = std::from_chars(b, b + m.str.size(), us);
    if (ec != std::errc() || p == b + m.str.size() || *p != ':') return false;
    out.push_back(model::sys_time(std::chrono::microseconds(us)));
  }
  return true;
}

}  // namespace stopgate::dnc::contacts::contact_codec
