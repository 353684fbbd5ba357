#include "gateway/http/check_route.hpp"

#include "gateway/http/ops_route.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <optional>

namespace stopgate::gateway::http {
namespace {

namespace json = boost::json;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' stays '+' (it starts E.164 numbers, and PBX scripts rarely encode it).
std::optional<std::string> decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool wants_json(const request& req) {
  return req.header("Accept").find("application/json") != std::string_view::npos;
}

response failure(const request& req, unsigned status, std::string_view code,
                 std::string_view message) {
  response r = wants_json(req) ? response::json_error(status, code, message)
                               : response::text(status, "deny:" + std::string(code));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stopgate\"");
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

response failure(const request& req, const api::op_error& e) {
  return failure(req, status_for(e.code), api::to_string(e.code), e.message);
}

}  // namespace

boost::asio::awaitable<response> async_handle_check(const request& req, const api::key_table& keys,
                                                    api::dispatcher& dispatch) {
  auto who = authorize_ops(req.header("Authorization"), req.loopback, keys);
  if (!who) co_return failure(req, who.error());
  if (!(who->roles & std::uint8_t(config::role::check)))
    co_return failure(req, 403, "forbidden", "/v1/check needs role check");

  // The query's fields become a check request; each may appear once.
  json::object q;
  q["op"] = "check";
  q["channel"] = "voice";
  std::string_view rest = req.query;
  while (!rest.empty()) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest = pair.size() < rest.size() ? rest.substr(pair.size() + 1) : std::string_view{};
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = decode(pair.substr(0, eq));
    auto value = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value)
      co_return failure(req, 400, "bad_request", "malformed percent-encoding in the query");
    static constexpr std::string_view allowed[] = {"to",   "sender",   "channel", "purpose",
                                                   "tech", "campaign", "ref"};
    if (std::find(std::begin(allowed), std::end(allowed), *name) == std::end(allowed))
      co_return failure(req, 400, "bad_request", "unknown parameter " + name->substr(0, 32));
    if (*name != "channel" && q.contains(*name))
      co_return failure(req, 400, "bad_request", *name + ": given twice");
    if (*name == "ref") {
      std::string ref = "http:" + *value;
      if (ref.size() > 256) co_return failure(req, 400, "bad_request", "ref: at most 251 bytes");
      q["ref"] = ref;
    } else if (!value->empty()) {
      q[*name] = *value;
    }
  }
  if (!q.contains("to")) co_return failure(req, 400, "bad_request", "to: required");
  if (!q.contains("ref")) q["ref"] = "http:";
  q["commit"] = true;

  api::request_context ctx{who->key_name, who->roles, req.loopback, req.settings, {}, req.worker};
  std::optional<api::op_result> result;
  try {
    result.emplace(co_await dispatch.async_handle("check", q, ctx));
  } catch (const std::exception& e) {
    spdlog::error("http: /v1/check failed: {}", e.what());
  }
  if (!result) co_return failure(req, 500, "internal", "internal error");
  if (!*result) co_return failure(req, (*result).error());
  const json::value* r = (*result)->if_contains("result");
  if (!r || !r->is_object()) co_return failure(req, 500, "internal", "internal error");
  const json::object& o = r->get_object();
  if (wants_json(req)) co_return response::json(200, json::serialize(o) + "\n");
  std::string_view decision = o.at("decision").as_string();
  std::string text(decision);
  if (decision == "defer") {
    if (const json::value* t = o.if_contains("retry_at"); t && t->is_string())
      text.append(":").append(t->get_string());
  } else if (decision == "deny") {
    text.push_back(':');
    bool first = true;
    for (const auto& x : o.at("reasons").as_array()) {
      if (!first) text.push_back(',');
      first = false;
      text.append(x.as_string());
    }
  }
  // No line end: PBX scripts compare the body as it is (${CURL(...)} = "allow").
  response out = response::text(200, std::move(text));
  if (const json::value* e = o.if_contains("evidence_id"); e && e->is_string())
    out.headers.emplace_back("X-Stopgate-Evidence-Id", std::string(e->get_string()));
  co_return out;
}

}  // namespace stopgate::gateway::http
