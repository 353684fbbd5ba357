// The [dialer.fastagi] and [dialer.sip] tables: the FastAGI server for Asterisk-based dialers
// and the SIP redirect gate in front of carrier trunks (docs/DIALERS.md, docs/CONFIG.md).
// Both are off unless their `listen` is set.
#pragma once

#include "config/values.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::config {

enum class purpose : std::uint8_t;

/// The voice technology of a call; it picks the consent level (SPEC section 5).
enum class voice_tech : std::uint8_t { manual, atds, prerecorded };
std::string_view to_string(voice_tech t) noexcept;

/// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or a bare address for one host).
struct ip_network {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first four
  bool v4 = true;
  std::uint8_t prefix = 32;
  /// Whether `addr` (4 bytes for IPv4, 16 for IPv6) lies in the network. An IPv4-mapped IPv6
  /// address is compared as IPv4.
  bool contains(const std::uint8_t* addr, bool addr_v4) const noexcept;
  friend bool operator==(const ip_network&, const ip_network&) = default;
};
/// nullopt unless `text` is an address literal, optionally "/PREFIX" (0..32 or 0..128).
std::optional<ip_network> parse_ip_network(std::string_view text);

/// Defaults a check takes when the dialplan or the sender table names none.
struct dialer_check_defaults {
  std::string sender;                 // "" = the only configured sender
  purpose call_purpose = purpose{1};  // marketing (the enum is defined in settings.hpp)
  voice_tech tech = voice_tech::atds;
  std::string campaign;
};

struct dialer_fastagi_settings {
  std::optional<listen_address> listen;   // nullopt: off (the conventional port is 4573)
  std::string script = "check";           // agi://HOST:PORT/check
  std::uint32_t read_timeout_ms = 5000;   // the agi_* block, and each reply to a command
  std::uint32_t check_timeout_ms = 3000;  // unanswered checks are denied with check_timeout
  std::uint32_t max_connections = 1000;
  std::uint32_t max_line_bytes = 8192;
  dialer_check_defaults defaults;
};

/// One row of the SIP gate's sender table: which INVITEs belong to a stopgate sender and
/// where its allowed calls are redirected.
struct dialer_sip_sender {
  std::string name;                 // a configured [senders.NAME]
  std::vector<ip_network> sources;  // empty: any source (when named by sender_header)
  std::string trunk;                // "sip:HOST[:PORT][;params]" without a user part
  enum class contact_number { dialed, e164 } number = contact_number::dialed;
  purpose call_purpose = purpose{1};  // marketing
  voice_tech tech = voice_tech::atds;
  std::string campaign;
};

struct dialer_sip_settings {
  std::optional<listen_address> listen;  // nullopt: off; UDP and TCP on the same port
  bool udp = true;
  bool tcp = true;
  std::uint16_t deny_status = 608;          // 608 Rejected (RFC 8688) or 603 Decline
  std::vector<std::string> strip_prefixes;  // the longest matching one is removed
  std::string sender_header;                // "" = by source address only
  std::string campaign_header;              // "" = the sender's campaign only
  std::uint32_t check_timeout_ms = 3000;
  std::uint32_t retry_after_default_s = 300;  // deferred without a retry_at
  std::uint32_t retry_after_max_s = 86400;
  std::uint32_t t1_ms = 500;  // RFC 3261 timers T1, T2, T4
  std::uint32_t t2_ms = 4000;
  std::uint32_t t4_ms = 5000;
  std::uint32_t max_message_bytes = 16384;
  std::uint32_t max_transactions = 100000;  // per worker thread; past it INVITEs get 503
  std::uint32_t max_connections = 1000;     // TCP
  std::uint32_t tcp_idle_timeout_ms = 60000;
  std::vector<dialer_sip_sender> senders;  // sorted by name

  const dialer_sip_sender* sender(std::string_view name) const noexcept;
};

struct dialer_settings {
  dialer_fastagi_settings fastagi;
  dialer_sip_settings sip;
};

}  // namespace stopgate::config
