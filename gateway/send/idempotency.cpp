#include "gateway/send/idempotency.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

namespace stopgate::gateway::send {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

std::string idem_key(std::string_view sender, std::string_view key) {
  return "stopgate:send:idem:" + std::string(sender) + ":" + std::string(key);
}

// Deletes the key only while it still holds our pending claim.
constexpr std::string_view release_script = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, o = pcall(cjson.decode, v)
if ok and type(o) == 'table' and o.state == 'pending' and o.message_id == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

// Replaces the value only if it is still the one read (the scrub is read-modify-write).
constexpr std::string_view replace_script = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
)lua";

}  // namespace

bool valid_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > 128) return false;
  for (unsigned char ch : key)
    if (ch < 0x21 || ch > 0x7e) return false;
  return true;
}

asio::awaitable<boost::system::result<claim>> idempotency::async_claim(std::string_view sender,
                                                                       std::string_view key,
                                                                       std::string_view message_id,
                                                                       dnc::model::sys_time now) {
  const auto k = idem_key(sender, key);
  const auto pending = json::serialize(json::object{{"state", "pending"},
                                                    {"message_id", message_id},
                                                    {"started", now.time_since_epoch().count()}});
  const auto ttl = std::to_string(opts_.key_ttl.count());
  const auto waited_until = std::chrono::steady_clock::now() + opts_.wait_max;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (bool first_try = true;; first_try = false) {
    auto r = co_await c_.async_exec(redis::command_args("SET", k, pending, "NX", "EX", ttl));
    if (!r) co_return r.error();
    if (r->kind == redis::reply::type::status)
      co_return claim{claim::kind::claimed, {}, std::string(message_id), first_try};
    if (!r->is_nil()) co_return make_error_code(redis::errc::protocol);
    auto g = co_await c_.async_exec(redis::command_args("GET", k));
    if (!g) co_return g.error();
    if (g->is_nil()) continue;  // released or expired in between: claim it again
    if (g->kind != redis::reply::type::string) co_return make_error_code(redis::errc::protocol);
    error_code ec;
    auto v = json::parse(g->str, ec);
    if (ec || !v.is_object()) co_return make_error_code(redis::errc::protocol);
    auto& o = v.get_object();
    claim c;
    if (auto* id = o.if_contains("message_id"); id && id->is_string())
      c.message_id = std::string(id->get_string());
    auto* state = o.if_contains("state");
    if (state && *state == "done") {
      auto* resp = o.if_contains("response");
      if (!resp || !resp->is_object()) co_return make_error_code(redis::errc::protocol);
      c.what = claim::kind::done;
      c.response = std::move(resp->get_object());
      co_return c;
    }
    std::int64_t started = 0;
    if (auto* s = o.if_contains("started"); s && s->is_int64()) started = s->get_int64();
    const auto age = now - dnc::model::sys_time(std::chrono::microseconds(started));
    if (age > opts_.stale_after) {
      c.what = claim::kind::stale;
      co_return c;
    }
    if (std::chrono::steady_clock::now() >= waited_until) {
      c.what = claim::kind::in_progress;
      co_return c;
    }
    // The first request is still running (here or on another gateway): poll until it ends.
    timer.expires_after(opts_.poll_interval);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    now += std::chrono::duration_cast<std::chrono::microseconds>(opts_.poll_interval);
  }
}

asio::awaitable<error_code> idempotency::async_complete(std::string_view sender,
                                                        std::string_view key,
                                                        const json::object& response) {
  const auto k = idem_key(sender, key);
  const auto v = json::serialize(json::object{{"state", "done"}, {"response", response}});
  auto r = co_await c_.async_exec(redis::command_args("SET", k, v, "XX", "KEEPTTL"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(redis::errc::protocol);
  co_return error_code{};
}

asio::awaitable<error_code> idempotency::async_release(std::string_view sender,
                                                       std::string_view key,
                                                       std::string_view message_id) {
  const auto k = idem_key(sender, key);
  auto r = co_await c_.async_exec(redis::command_args("EVAL", release_script, "1", k, message_id));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(redis::errc::protocol);
  co_return error_code{};
}

asio::awaitable<boost::system::result<bool>> idempotency::async_scrub(std::string_view sender,
                                                                      std::string_view key) {
  // (result<bool> cannot be made from an error_code implicitly: bool is constructible from it.)
  using out = boost::system::result<bool>;
  const auto fail = [](error_code ec) { return out(boost::system::in_place_error, ec); };
  const out unchanged(boost::system::in_place_value, false);
  const auto k = idem_key(sender, key);
  auto g = co_await c_.async_exec(redis::command_args("GET", k));
  if (!g) co_return fail(g.error());
  if (g->is_nil()) co_return unchanged;
  if (g->kind != redis::reply::type::string) co_return fail(make_error_code(redis::errc::protocol));
  error_code ec;
  auto v = json::parse(g->str, ec);
  if (ec || !v.is_object()) co_return unchanged;  // not ours to rewrite
  auto* state = v.get_object().if_contains("state");
  auto* resp = v.get_object().if_contains("response");
  if (!state || *state != "done" || !resp || !resp->is_object()) co_return unchanged;
  auto* err = resp->get_object().if_contains("error");
  if (!err || !err->is_object()) co_return unchanged;
  auto* message = err->get_object().if_contains("message");
  if (!message || !message->is_string() || message->get_string() == forgotten_text)
    co_return unchanged;
  *message = forgotten_text;
  const auto scrubbed = json::serialize(v);
  auto r =
      co_await c_.async_exec(redis::command_args("EVAL", replace_script, "1", k, g->str, scrubbed));
  if (!r) co_return fail(r.error());
  if (r->kind != redis::reply::type::integer)
    co_return fail(make_error_code(redis::errc::protocol));
  co_return out(boost::system::in_place_value, r->integer == 1);
}

}  // namespace stopgate::gateway::send
