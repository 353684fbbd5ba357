// Readers for [dialer.fastagi] and [dialer.sip] (docs/CONFIG.md, "Dialers"), the values they
// use, and their cross-field rules.
#include "config/load_detail.hpp"

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstring>

namespace stopgate::config {

std::string_view to_string(voice_tech t) noexcept {
  switch (t) {
    case voice_tech::manual:
      return "manual";
    case voice_tech::atds:
      return "atds";
    case voice_tech::prerecorded:
      return "prerecorded";
  }
  return "atds";
}

bool ip_network::contains(const std::uint8_t* addr, bool addr_v4) const noexcept {
  std::array<std::uint8_t, 16> a{};
  // An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is the IPv4 host it maps.
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!addr_v4 && std::memcmp(addr, mapped, 12) == 0) {
    std::memcpy(a.data(), addr + 12, 4);
    addr_v4 = true;
  } else {
    std::memcpy(a.data(), addr, addr_v4 ? 4 : 16);
  }
  if (addr_v4 != v4) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.data(), bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  const std::uint8_t mask = std::uint8_t(0xff << (8 - rest));
  return (a[full] & mask) == (bytes[full] & mask);
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  std::string_view host = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    unsigned v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + unsigned(c - '0');
    }
    prefix = v;
  }
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  ip_network n;
  n.v4 = a.is_v4();
  if (n.v4) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  } else {
    auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  }
  const unsigned max = n.v4 ? 32 : 128;
  if (prefix && *prefix > max) return std::nullopt;
  n.prefix = std::uint8_t(prefix.value_or(max));
  return n;
}

const dialer_sip_sender* dialer_sip_settings::sender(std::string_view name) const noexcept {
  for (const auto& s : senders)
    if (s.name == name) return &s;
  return nullptr;
}

namespace detail {
namespace {

void read_listen(table_reader& t, std::optional<listen_address>& out) {
  std::string text;
  if (!t.read("listen", text)) return;
  if (text.empty()) {
    out.reset();
    return;
  }
  if (auto a = parse_listen_address(text)) {
    out = std::move(*a);
    return;
  }
  t.problem("listen", "must be \"HOST:PORT\" (e.g. \"127.0.0.1:4573\") or \"\" to disable",
            t.get("listen"));
}

void read_purpose(table_reader& t, purpose& out) {
  t.read_enum<purpose>(
      "purpose", out,
      {{"marketing", purpose::marketing}, {"informational", purpose::informational}});
}

void read_tech(table_reader& t, voice_tech& out) {
  t.read_enum<voice_tech>("tech", out,
                          {{"manual", voice_tech::manual},
                           {"atds", voice_tech::atds},
                           {"prerecorded", voice_tech::prerecorded}});
}

// A SIP header name: an RFC 3261 token, no colon.
bool is_header_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-.!%*_+`'~", c);
  });
}

// "sip:HOST[:PORT][;params]" or "sips:...", no user part, no headers.
bool is_trunk_uri(std::string_view s) {
  std::string_view rest;
  if (s.starts_with("sip:"))
    rest = s.substr(4);
  else if (s.starts_with("sips:"))
    rest = s.substr(5);
  else
    return false;
  if (rest.empty() || rest.find_first_of("@?> \t\r\n\"<,") != std::string_view::npos) return false;
  std::string_view host = rest.substr(0, rest.find(';'));
  if (host.empty() || host.front() == ':') return false;
  return true;
}

void read_fastagi(table_reader t, dialer_fastagi_settings& out) {
  read_listen(t, out.listen);
  if (t.read("script", out.script)) {
    while (out.script.starts_with('/')) out.script.erase(0, 1);
    bool ok = !out.script.empty() && out.script.size() <= 64 &&
              std::all_of(out.script.begin(), out.script.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_-./", c);
              });
    if (!ok)
      t.problem("script", "must be a path such as \"check\" ([A-Za-z0-9_./-]{1,64})",
                t.get("script"));
  }
  t.read_int("read_timeout_ms", out.read_timeout_ms, 100, 600'000);
  t.read_int("check_timeout_ms", out.check_timeout_ms, 100, 60'000);
  t.read_int("max_connections", out.max_connections, 1, 1'000'000);
  t.read_int("max_line_bytes", out.max_line_bytes, 256, 1 << 20);
  t.read("sender", out.defaults.sender);
  read_purpose(t, out.defaults.call_purpose);
  read_tech(t, out.defaults.tech);
  t.read("campaign", out.defaults.campaign);
  t.finish();
}

void read_sip_sender(const std::string& name, table_reader s, dialer_sip_sender& out) {
  out.name = name;
  std::vector<std::string> sources;
  if (s.read("sources", sources)) {
    for (const auto& text : sources) {
      if (auto n = parse_ip_network(text)) {
        out.sources.push_back(*n);
      } else {
        s.problem("sources",
                  fmt::format("\"{}\" is not an address or network (e.g. \"10.0.0.0/8\", "
                              "\"192.0.2.7\", \"2001:db8::/32\")",
                              text),
                  s.get("sources"));
      }
    }
  }
  if (!s.read("trunk", out.trunk) && !s.get("trunk")) {
    s.problem("trunk",
              "is required: the SIP URI of the carrier trunk that allowed calls are "
              "redirected to, e.g. \"sip:trunk.example.com:5060\"");
  } else if (!out.trunk.empty() && !is_trunk_uri(out.trunk)) {
    s.problem("trunk", "must be \"sip:HOST[:PORT][;params]\" (or sips:) without a user part",
              s.get("trunk"));
  } else if (out.trunk.empty() && s.get("trunk")) {
    s.problem("trunk", "must not be empty", s.get("trunk"));
  }
  s.read_enum<dialer_sip_sender::contact_number>(
      "contact_number", out.number,
      {{"dialed", dialer_sip_sender::contact_number::dialed},
       {"e164", dialer_sip_sender::contact_number::e164}});
  read_purpose(s, out.call_purpose);
  read_tech(s, out.tech);
  s.read("campaign", out.campaign);
  s.finish();
}

void read_sip(table_reader t, dialer_sip_settings& out) {
  read_listen(t, out.listen);
  std::vector<std::string> transports;
  if (t.read("transports", transports)) {
    out.udp = out.tcp = false;
    for (const auto& x : transports) {
      if (x == "udp")
        out.udp = true;
      else if (x == "tcp")
        out.tcp = true;
      else
        t.problem("transports", fmt::format("\"{}\" is not udp or tcp", x), t.get("transports"));
    }
    if (!out.udp && !out.tcp)
      t.problem("transports", "must name udp, tcp or both", t.get("transports"));
  }
  if (t.read_int("deny_status", out.deny_status, 600, 608) && out.deny_status != 603 &&
      out.deny_status != 608)
    t.problem("deny_status", "must be 608 (Rejected, RFC 8688) or 603 (Decline)",
              t.get("deny_status"));
  if (t.read("strip_prefixes", out.strip_prefixes)) {
    for (const auto& p : out.strip_prefixes) {
      bool ok = !p.empty() && p.size() <= 16 && std::all_of(p.begin(), p.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#';
      });
      if (!ok)
        t.problem("strip_prefixes", fmt::format("\"{}\" must be 1 to 16 of 0-9 + * #", p),
                  t.get("strip_prefixes"));
    }
  }
  if (t.read("sender_header", out.sender_header) && !out.sender_header.empty() &&
      !is_header_name(out.sender_header))
    t.problem("sender_header", "must be a header name such as \"X-Stopgate-Sender\" or \"\"",
              t.get("sender_header"));
  if (t.read("campaign_header", out.campaign_header) && !out.campaign_header.empty() &&
      !is_header_name(out.campaign_header))
    t.problem("campaign_header", "must be a header name such as \"X-Stopgate-Campaign\" or \"\"",
              t.get("campaign_header"));
  t.read_int("check_timeout_ms", out.check_timeout_ms, 100, 30'000);
  t.read_int("retry_after_default_s", out.retry_after_default_s, 1, 86'400 * 7);
  t.read_int("retry_after_max_s", out.retry_after_max_s, 1, 86'400 * 7);
  t.read_int("t1_ms", out.t1_ms, 50, 10'000);
  t.read_int("t2_ms", out.t2_ms, 100, 60'000);
  t.read_int("t4_ms", out.t4_ms, 100, 60'000);
  t.read_int("max_message_bytes", out.max_message_bytes, 1024, 65'535);
  t.read_int("max_transactions", out.max_transactions, 1, 10'000'000);
  t.read_int("max_connections", out.max_connections, 1, 1'000'000);
  t.read_int("tcp_idle_timeout_ms", out.tcp_idle_timeout_ms, 1000, 86'400'000);
  table_reader senders = t.sub("senders");
  if (senders.table()) {
    for (auto&& [k, v] : *senders.table()) {
      std::string name(k.str());
      senders.get(name);
      if (!v.is_table()) {
        senders.problem(name, fmt::format("must be a table ([{}])", senders.key_path(name)), &v);
        continue;
      }
      dialer_sip_sender row;
      read_sip_sender(name, table_reader(v.as_table(), senders.key_path(name), t.context()), row);
      out.senders.push_back(std::move(row));
    }
    senders.finish();
  }
  std::sort(out.senders.begin(), out.senders.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  t.finish();
}

}  // namespace

void read_dialer(table_reader t, dialer_settings& out) {
  read_fastagi(t.sub("fastagi"), out.fastagi);
  read_sip(t.sub("sip"), out.sip);
  t.finish();
}

void check_dialer(const settings& s, std::vector<problem>& out) {
  const auto& d = s.dialer;
  auto known_sender = [&](const std::string& name) { return s.sender(name) != nullptr; };
  if (!d.fastagi.defaults.sender.empty() && !known_sender(d.fastagi.defaults.sender))
    out.push_back({"dialer.fastagi.sender",
                   fmt::format("\"{}\" is not a configured sender", d.fastagi.defaults.sender)});
  for (const auto& row : d.sip.senders)
    if (!known_sender(row.name))
      out.push_back({fmt::format("dialer.sip.senders.{}", row.name),
                     "names no configured sender (add [senders." + row.name + "])"});
  if (d.sip.listen && d.sip.senders.empty())
    out.push_back(
        {"dialer.sip.senders", "at least one sender is required when dialer.sip.listen is set"});
  if (d.sip.listen && d.sip.sender_header.empty())
    for (const auto& row : d.sip.senders)
      if (row.sources.empty())
        out.push_back({fmt::format("dialer.sip.senders.{}.sources", row.name),
                       "is required when dialer.sip.sender_header is \"\" (INVITEs are matched "
                       "to senders by source address)"});
  if (d.sip.t1_ms > d.sip.t2_ms) out.push_back({"dialer.sip.t2_ms", "must be >= dialer.sip.t1_ms"});
  if (d.sip.retry_after_default_s > d.sip.retry_after_max_s)
    out.push_back({"dialer.sip.retry_after_max_s", "must be >= dialer.sip.retry_after_default_s"});
  // The TCP listeners must not collide with each other or with the API and HTTP listeners.
  const std::pair<std::string_view, const std::optional<listen_address>*> tcp[] = {
      {"api.listen", &s.api.listen},
      {"api.tls_listen", &s.api.tls_listen},
      {"http.listen", &s.http.listen},
      {"dialer.fastagi.listen", &d.fastagi.listen},
      {"dialer.sip.listen", d.sip.tcp ? &d.sip.listen : nullptr}};
  for (std::size_t j = 3; j < std::size(tcp); ++j)
    for (std::size_t i = 0; i < j; ++i) {
      if (!tcp[i].second || !tcp[j].second) continue;
      const auto& a = *tcp[i].second;
      const auto& b = *tcp[j].second;
      if (a && b && *a == *b && a->port != 0)
        out.push_back({std::string(tcp[j].first),
                       fmt::format("same address as {} ({})", tcp[i].first, a->to_string())});
    }
}

}  // namespace detail
}  // namespace stopgate::config
