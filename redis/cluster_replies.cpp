#include "redis/cluster_replies.hpp"

#include "redis/slot.hpp"

#include <charconv>

namespace stopgate::redis {
namespace {

bool parse_number(std::string_view s, long long lo, long long hi, long long& out) noexcept {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || p == s.data() || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

// "host:port", "[v6]:port" or ":port"; the port is after the last ':'.
bool split_address(std::string_view a, std::string& host, int& port) {
  const auto colon = a.rfind(':');
  if (colon == std::string_view::npos) return false;
  long long p = 0;
  if (!parse_number(a.substr(colon + 1), 1, 65535, p)) return false;
  std::string_view h = a.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host.assign(h);
  port = int(p);
  return true;
}

bool is_text(const reply& r) noexcept {
  return r.kind == reply::type::string || r.kind == reply::type::status;
}

// The value under `name` in a RESP2 map (a flat array name, value, name, value ...).
const reply* field(const reply& map, std::string_view name) noexcept {
  if (map.kind != reply::type::array) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements.size(); i += 2)
    if (is_text(map.elements[i]) && map.elements[i].str == name) return &map.elements[i + 1];
  return nullptr;
}

bool known_address(const reply* r) noexcept {
  return r != nullptr && is_text(*r) && !r->str.empty() && r->str != "?";
}

bool slot_number(const reply& r, std::uint16_t& out) noexcept {
  if (r.kind != reply::type::integer || r.integer < 0 || r.integer >= slot_count) return false;
  out = static_cast<std::uint16_t>(r.integer);
  return true;
}

}  // namespace

std::optional<redirect> parse_redirect(const reply& r) {
  if (!r.is_error()) return std::nullopt;
  redirect out;
  std::string_view rest;
  if (r.str.starts_with("MOVED ")) {
    out.type = redirect::kind::moved;
    rest = std::string_view(r.str).substr(6);
  } else if (r.str.starts_with("ASK ")) {
    out.type = redirect::kind::ask;
    rest = std::string_view(r.str).substr(4);
  } else {
    return std::nullopt;
  }
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  long long slot = 0;
  if (!parse_number(rest.substr(0, space), 0, slot_count - 1, slot)) return std::nullopt;
  out.slot = static_cast<std::uint16_t>(slot);
  if (!split_address(rest.substr(space + 1), out.host, out.port)) return std::nullopt;
  return out;
}

bool is_tryagain(const reply& r) noexcept {
  return r.is_error() && r.str.starts_with("TRYAGAIN");
}

bool is_clusterdown(const reply& r) noexcept {
  return r.is_error() && r.str.starts_with("CLUSTERDOWN");
}

std::optional<std::vector<slot_range>> parse_cluster_shards(const reply& r,
                                                            std::string_view asked_host) {
  if (r.kind != reply::type::array) return std::nullopt;
  std::vector<slot_range> out;
  for (const reply& shard : r.elements) {
    const reply* slots = field(shard, "slots");
    const reply* nodes = field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || slots->kind != reply::type::array ||
        nodes->kind != reply::type::array || slots->elements.size() % 2 != 0)
      return std::nullopt;
    // The primary; of two (a stale view during a failover) the one reported online.
    const reply* primary = nullptr;
    for (const reply& node : nodes->elements) {
      const reply* role = field(node, "role");
      if (role == nullptr || !is_text(*role) || role->str != "master") continue;
      const reply* health = field(node, "health");
      const bool online = health != nullptr && is_text(*health) && health->str == "online";
      if (primary == nullptr || online) primary = &node;
      if (online) break;
    }
    if (primary == nullptr || slots->elements.empty()) continue;
    const reply* port = field(*primary, "port");
    if (port == nullptr || port->kind != reply::type::integer || port->integer < 1 ||
        port->integer > 65535)
      return std::nullopt;
    const reply* endpoint = field(*primary, "endpoint");
    const reply* ip = field(*primary, "ip");
    const std::string host = known_address(endpoint) ? endpoint->str
                             : known_address(ip)     ? ip->str
                                                     : std::string(asked_host);
    for (std::size_t i = 0; i < slots->elements.size(); i += 2) {
      slot_range range;
      if (!slot_number(slots->elements[i], range.first) ||
          !slot_number(slots->elements[i + 1], range.last) || range.last < range.first)
        return std::nullopt;
      range.host = host;
      range.port = int(port->integer);
      out.push_back(std::move(range));
    }
  }
  return out;
}

std::optional<std::vector<slot_range>> parse_cluster_slots(const reply& r,
                                                           std::string_view asked_host) {
  if (r.kind != reply::type::array) return std::nullopt;
  std::vector<slot_range> out;
  for (const reply& entry : r.elements) {
    if (entry.kind != reply::type::array || entry.elements.size() < 3) return std::nullopt;
    slot_range range;
    const reply& primary = entry.elements[2];
    if (!slot_number(entry.elements[0], range.first) ||
        !slot_number(entry.elements[1], range.last) || range.last < range.first ||
        primary.kind != reply::type::array || primary.elements.size() < 2 ||
        !is_text(primary.elements[0]) || primary.elements[1].kind != reply::type::integer ||
        primary.elements[1].integer < 1 || primary.elements[1].integer > 65535)
      return std::nullopt;
    range.host =
        known_address(&primary.elements[0]) ? primary.elements[0].str : std::string(asked_host);
    range.port = int(primary.elements[1].integer);
    out.push_back(std::move(range));
  }
  return out;
}

}  // namespace stopgate::redis
