#include "gateway/queue/campaigns.hpp"

#include <cstdio>

namespace stopgate::gateway::queue {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code bad_reply() {
  return make_error_code(redis::errc::protocol);
}

error_code check(const boost::system::result<std::vector<redis::reply>>& r) {
  if (!r) return r.error();
  for (const auto& e : *r)
    if (e.is_error()) return bad_reply();
  return {};
}

std::string key(std::string_view sender, std::string_view name) {
  return "{" + campaign_store::tag(sender, name) + "}";
}

std::string minute_key(const std::string& k, std::int64_t now_ms) {
  return k + ":r:" + std::to_string(now_ms / 60000);
}

}  // namespace

std::string_view to_string(campaign_state s) noexcept {
  switch (s) {
    case campaign_state::active: return "active";
    case campaign_state::paused: return "paused";
    case campaign_state::cancelled: return "cancelled";
  }
  return "active";
}

std::string campaign_store::tag(std::string_view sender, std::string_view name) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 1099511628211ull;
    }
  };
  mix(sender);
  mix(std::string_view("\n", 1));
  mix(name);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return "sg:camp:" + std::string(buf);
}

asio::awaitable<error_code> campaign_store::async_queued(redis::client& c, std::string_view sender,
                                                         std::string_view name,
                                                         std::string_view id) const {
  const auto k = key(sender, name);
  redis::pipeline p;
  p.add({"HSET", k, "sender", sender, "name", name});
  p.add({"HSETNX", k, "state", "active"});
  p.add({"HINCRBY", k, "queued", "1"});
  p.add({"SADD", k + ":ids", id});
  co_return check(co_await c.async_exec(p));
}

asio::awaitable<error_code> campaign_store::async_ended(redis::client& c, std::string_view sender,
                                                        std::string_view name, std::string_view id,
                                                        std::string_view outcome,
                                                        std::int64_t now_ms) const {
  const auto k = key(sender, name);
  redis::pipeline p;
  p.add({"HINCRBY", k, outcome, "1"});
  p.add({"SREM", k + ":ids", id});
  if (outcome == "sent") {
    const auto mk = minute_key(k, now_ms);
    p.add({"INCR", mk});
    p.add({"EXPIRE", mk, "180"});
  }
  co_return check(co_await c.async_exec(p));
}

asio::awaitable<boost::system::result<campaign_state>> campaign_store::async_state(
    redis::client& c, std::string_view sender, std::string_view name) const {
  auto r = co_await c.async_exec(redis::command_args("HGET", key(sender, name), "state"));
  if (!r) co_return r.error();
  if (r->is_nil()) co_return campaign_state::active;
  if (r->kind != redis::reply::type::string) co_return bad_reply();
  if (r->str == "paused") co_return campaign_state::paused;
  if (r->str == "cancelled") co_return campaign_state::cancelled;
  co_return campaign_state::active;
}

asio::awaitable<error_code> campaign_store::async_set_state(redis::client& c,
                                                            std::string_view sender,
                                                            std::string_view name,
                                                            campaign_state s) const {
  const auto k = key(sender, name);
  redis::pipeline p;
  p.add({"HSET", k, "sender", sender, "name", name, "state", to_string(s)});
  co_return check(co_await c.async_exec(p));
}

asio::awaitable<boost::system::result<campaign_counts>> campaign_store::async_counts(
    redis::client& c, std::string_view sender, std::string_view name, std::int64_t now_ms) const {
  const auto k = key(sender, name);
  redis::pipeline p;
  p.add({"HGETALL", k});
  p.add({"SMEMBERS", k + ":ids"});
  p.add({"GET", minute_key(k, now_ms)});
  p.add({"GET", minute_key(k, now_ms - 60000)});
  auto r = co_await c.async_exec(p);
  if (auto ec = check(r)) co_return ec;
  const auto& a = *r;
  if (a.size() != 4 || a[0].kind != redis::reply::type::array ||
      a[1].kind != redis::reply::type::array)
    co_return bad_reply();
  campaign_counts out;
  out.known = !a[0].elements.empty();
  for (std::size_t i = 0; i + 1 < a[0].elements.size(); i += 2) {
    const auto& f = a[0].elements[i].str;
    const auto& v = a[0].elements[i + 1].str;
    const auto n = std::strtoll(v.c_str(), nullptr, 10);
    if (f == "state")
      out.state = v == "paused" ? campaign_state::paused
                  : v == "cancelled" ? campaign_state::cancelled
                                     : campaign_state::active;
    else if (f == "queued") out.queued = n;
    else if (f == "sent") out.sent = n;
    else if (f == "failed") out.failed = n;
    else if (f == "unknown") out.unknown = n;
    else if (f == "cancelled") out.cancelled = n;
    else if (f == "expired") out.expired = n;
  }
  for (auto& e : a[1].elements) out.ids.push_back(std::move(e.str));
  // Sent in the last 60 s: this minute's count plus the share of the previous minute's.
  const double into = double(now_ms % 60000) / 60000.0;
  const auto cur = a[2].is_nil() ? 0 : std::strtoll(a[2].str.c_str(), nullptr, 10);
  const auto prev = a[3].is_nil() ? 0 : std::strtoll(a[3].str.c_str(), nullptr, 10);
  out.sent_last_minute = cur + std::int64_t(double(prev) * (1.0 - into) + 0.5);
  co_return out;
}

}  // namespace stopgate::gateway::queue
