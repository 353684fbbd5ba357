#include "gateway/http/ops_route.hpp"

#include "config/version.hpp"
#include "gateway/api/request_decoder.hpp"
#include "gateway/api/response_writer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serializer.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <optional>

namespace stopgate::gateway::http {

namespace {

constexpr std::uint8_t all_roles = 0x0F;

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? char(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

response ops_error(std::string_view id, api::api_errc code, std::string_view message) {
  response r = response::json(status_for(code), {});
  api::append_error(r.body, id, code, message);
  if (code == api::api_errc::unauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stopgate\"");
  if (code == api::api_errc::overloaded) r.headers.emplace_back("Retry-After", "1");
  return r;
}

response ops_ok(std::string_view id, const boost::json::object& fields) {
  // One serializer per thread: responses are serialised synchronously, between suspensions.
  thread_local boost::json::serializer serializer;
  response r = response::json(200, {});
  api::append_ok(r.body, id, fields, serializer);
  return r;
}

}  // namespace

boost::system::result<ops_identity, api::op_error> authorize_ops(std::string_view authorization,
                                                                 bool loopback,
                                                                 const api::key_table& keys) {
  if (keys.empty()) {
    if (loopback) return ops_identity{{}, all_roles};
    return api::op_error{api::api_errc::forbidden,
                         "no API keys are configured: /v1/ops serves loopback clients only"};
  }
  std::string_view value = trim(authorization);
  if (value.empty()) {
    return api::op_error{api::api_errc::unauthenticated, "missing Authorization: Bearer KEY"};
  }
  auto space = value.find_first_of(" \t");
  if (space == std::string_view::npos || !iequals(value.substr(0, space), "bearer")) {
    return api::op_error{api::api_errc::unauthenticated, "the Authorization scheme must be Bearer"};
  }
  std::string_view key = trim(value.substr(space + 1));
  const config::api_key_settings* match = key.empty() ? nullptr : keys.match_key(key);
  if (!match) return api::op_error{api::api_errc::unauthenticated, "invalid key"};
  return ops_identity{match->name, match->roles};
}

unsigned status_for(api::api_errc code) noexcept {
  using api::api_errc;
  switch (code) {
    case api_errc::bad_json:
    case api_errc::bad_request:
    case api_errc::invalid_number:
    case api_errc::unknown_op:
    case api_errc::batch_too_large: return 400;
    case api_errc::unauthenticated: return 401;
    case api_errc::forbidden: return 403;
    case api_errc::line_too_long: return 413;
    case api_errc::overloaded:
    case api_errc::store_unavailable: return 503;
    case api_errc::internal: return 500;
  }
  return 500;
}

boost::asio::awaitable<response> async_handle_ops(const request& req, const api::key_table& keys,
                                                  api::dispatcher& dispatch) {
  using api::api_errc;
  // Authenticate before parsing: an unauthenticated body costs nothing.
  auto who = authorize_ops(req.header("Authorization"), req.loopback, keys);
  if (!who) co_return ops_error("null", who.error().code, who.error().message);

  // The request object lives in this coroutine's frame: a small arena, heap past it.
  std::array<unsigned char, 2048> arena;
  boost::json::monotonic_resource resource(arena.data(), arena.size());
  std::optional<boost::json::value> value;
  std::optional<api::decode_result> decoded;
  {
    // Decoding never suspends, so one decoder per thread is safe.
    thread_local api::request_decoder decoder;
    decoded.emplace(decoder.decode(req.body, value, boost::json::storage_ptr(&resource)));
  }
  if (!*decoded) {
    const auto& e = decoded->error();
    co_return ops_error(e.id, e.code, e.message);
  }
  const api::request_line& line = **decoded;
  const api::admitted a = api::admit(dispatch, line.op, *line.object, who->roles);
  if (a.what == api::admission::refused) co_return ops_error(line.id, a.error.code, a.error.message);
  if (a.what == api::admission::ping) {
    co_return ops_ok(line.id, {{"pong", true}, {"version", stopgate::version()}});
  }
  if (a.what == api::admission::auth) {
    // There is no session over HTTP: `auth` reports who the bearer key is.
    boost::json::object fields;
    if (keys.empty()) {
      fields["key"] = nullptr;
    } else {
      fields["key"] = who->key_name;
    }
    boost::json::array roles;
    for (auto r : {config::role::check, config::role::send, config::role::consent, config::role::admin}) {
      if (who->roles & std::uint8_t(r)) roles.emplace_back(api::to_string(r));
    }
    fields["roles"] = std::move(roles);
    co_return ops_ok(line.id, fields);
  }
  api::request_context ctx{who->key_name, who->roles, req.loopback, req.settings,
                           boost::json::storage_ptr(&resource), req.worker, a.spec->def};
  std::optional<api::op_result> result;
  try {
    result.emplace(co_await dispatch.async_handle(line.op, *line.object, ctx));
  } catch (const std::exception& e) {
    spdlog::error("http: op {} failed: {}", line.op, e.what());
  } catch (...) {
    spdlog::error("http: op {} failed with a non-standard exception", line.op);
  }
  if (!result) co_return ops_error(line.id, api_errc::internal, "internal error");
  if (!*result) co_return ops_error(line.id, result->error().code, result->error().message);
  co_return ops_ok(line.id, **result);
}

}  // namespace stopgate::gateway::http
