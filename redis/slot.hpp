// Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
#pragma once

#include <cstdint>
#include <string_view>

namespace stopgate::redis {

/// Number of hash slots of a Redis Cluster.
inline constexpr std::uint16_t slot_count = 16384;

/// CRC-16/XMODEM (polynomial 0x1021, initial value 0, no reflection), the checksum Redis
/// Cluster hashes keys with. Thread-safe (pure).
std::uint16_t crc16(std::string_view data) noexcept;

/// The part of `key` that is hashed: when the key holds a '{' followed later by a '}' with
/// at least one byte between them, the bytes between the first '{' and the first '}' after
/// it (the hash tag); otherwise the whole key. "{user}.a" and "{user}.b" share "user";
/// "{}x" and "x{" hash whole. Thread-safe (pure).
std::string_view hash_tag(std::string_view key) noexcept;

/// The slot of `key` (0..16383), as CLUSTER KEYSLOT answers it. Thread-safe (pure).
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace stopgate::redis
