// API key checks for the socket API (SPEC sections 2, 3, 10).
//
// Keys are configured as SHA-256 hex digests. A presented key is hashed and compared with
// every configured digest in constant time (no early exit, CRYPTO_memcmp), so timing reveals
// neither which key matched nor how much of a digest did. Immutable after construction;
// thread-safe.
#pragma once

#include "config/settings.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace stopgate::gateway::api {

using key_digest = std::array<std::uint8_t, 32>;

/// SHA-256 of `key`.
key_digest sha256_digest(std::string_view key) noexcept;

class key_table {
 public:
  /// Built from settings.api_keys; entries with a malformed digest are left out.
  explicit key_table(const config::settings& s);

  bool empty() const noexcept { return keys_.empty(); }

  /// The configured key whose digest equals SHA-256(key), or nullptr.
  const config::api_key_settings* match_key(std::string_view key) const noexcept;
  /// The configured key with this digest, or nullptr (re-resolving a connection after reload).
  const config::api_key_settings* match_digest(const key_digest& d) const noexcept;

 private:
  struct entry {
    key_digest digest;
    const config::api_key_settings* key;
  };
  std::vector<entry> keys_;
};

/// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool is_loopback_address(const boost::asio::ip::address& a) noexcept;

}  // namespace stopgate::gateway::api
