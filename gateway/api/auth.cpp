#include "gateway/api/auth.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace stopgate::gateway::api {

namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<key_digest> parse_hex_digest(std::string_view hex) noexcept {
  if (hex.size() != 64) return std::nullopt;
  key_digest d{};
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = std::uint8_t(hi << 4 | lo);
  }
  return d;
}
}  // namespace

key_digest sha256_digest(std::string_view key) noexcept {
  key_digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d.data());
  return d;
}

key_table::key_table(const config::settings& s) {
  keys_.reserve(s.api_keys.size());
  for (const auto& k : s.api_keys) {
    if (auto d = parse_hex_digest(k.sha256)) keys_.push_back({*d, &k});
  }
}

const config::api_key_settings* key_table::match_key(std::string_view key) const noexcept {
  return match_digest(sha256_digest(key));
}

const config::api_key_settings* key_table::match_digest(const key_digest& d) const noexcept {
  const config::api_key_settings* found = nullptr;
  // Compare against every entry without branching on secret-dependent data early.
  for (const auto& e : keys_) {
    bool equal = CRYPTO_memcmp(e.digest.data(), d.data(), d.size()) == 0;
    if (equal && !found) found = e.key;
  }
  return found;
}

bool is_loopback_address(const boost::asio::ip::address& a) noexcept {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return a.is_loopback();
}

}  // namespace stopgate::gateway::api
