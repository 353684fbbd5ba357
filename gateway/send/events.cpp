#include "gateway/send/events.hpp"

#include "gateway/send/status_hooks.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace stopgate::gateway::send {

namespace asio = boost::asio;

std::string events_key(std::string_view api_key) {
  return "{sg:ev:" + std::string(api_key.empty() ? std::string_view("-") : api_key) + "}";
}

bool valid_cursor(std::string_view s) noexcept {
  if (s == "0") return true;
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size() || s.size() > 41)
    return false;
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  return digits(s.substr(0, dash)) && digits(s.substr(dash + 1));
}

asio::awaitable<void> emit_event(redis::client& c, std::string_view api_key, const status_event& e,
                                 const config::sender_settings* sender) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string minid =
      std::to_string(now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(event_retention).count());
  std::vector<std::string_view> cmd{"XADD", "", "MINID", "~", minid, "*", "message_id",
                                    e.message_id, "status", e.status, "at", e.at};
  const auto key = events_key(api_key);
  cmd[1] = key;
  if (!e.campaign.empty()) cmd.insert(cmd.end(), {"campaign", e.campaign});
  if (!e.carrier.empty()) cmd.insert(cmd.end(), {"carrier", e.carrier});
  if (!e.error_code.empty()) cmd.insert(cmd.end(), {"error_code", e.error_code});
  redis::pipeline p;
  p.add(std::span<const std::string_view>(cmd));
  std::string hook, body;
  if (sender && !sender->status_url.empty()) {
    boost::json::object o{{"event", "status"},         {"message_id", e.message_id},
                          {"status", e.status},        {"at", e.at},
                          {"sender", sender->name}};
    if (!e.campaign.empty()) o["campaign"] = e.campaign;
    if (!e.carrier.empty()) o["carrier"] = e.carrier;
    if (!e.error_code.empty()) o["error_code"] = e.error_code;
    body = boost::json::serialize(o);
    hook = hook_key(sender->name);
    p.add({"XADD", hook, "MINID", "~", minid, "*", "body", body});
  }
  auto r = co_await c.async_exec(p);
  bool ok = bool(r);
  if (r)
    for (const auto& x : *r) ok = ok && !x.is_error();
  if (!ok)
    spdlog::warn("status event {} of {} not stored: {}", e.status, e.message_id,
                 r ? std::string("an error reply") : r.error().message());
}

asio::awaitable<boost::system::result<std::vector<status_event>>> read_events(
    redis::client& c, std::string_view api_key, std::string_view after, std::size_t max) {
  const auto key = events_key(api_key);
  const std::string count = std::to_string(max);
  // XRANGE with an exclusive start ("(" + id) needs Redis 6.2; "0" means from the start.
  const std::string start = after == "0" ? std::string("-") : "(" + std::string(after);
  auto r = co_await c.async_exec(redis::command_args("XRANGE", key, start, "+", "COUNT", count));
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::array) co_return make_error_code(redis::errc::protocol);
  std::vector<status_event> out;
  for (auto& entry : r->elements) {
    if (entry.kind != redis::reply::type::array || entry.elements.size() != 2) continue;
    status_event e;
    e.id = std::move(entry.elements[0].str);
    auto& f = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
      const auto& k = f[i].str;
      auto& v = f[i + 1].str;
      if (k == "message_id") e.message_id = std::move(v);
      else if (k == "status") e.status = std::move(v);
      else if (k == "at") e.at = std::move(v);
      else if (k == "campaign") e.campaign = std::move(v);
      else if (k == "carrier") e.carrier = std::move(v);
      else if (k == "error_code") e.error_code = std::move(v);
    }
    out.push_back(std::move(e));
  }
  co_return out;
}

}  // namespace stopgate::gateway::send
