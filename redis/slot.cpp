#include "redis/slot.hpp"

#include <array>

namespace stopgate::redis {
namespace {

// One entry per leading byte: the CRC of that byte shifted through the polynomial.
constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) {
    std::uint16_t crc = static_cast<std::uint16_t>(b << 8);
    for (int i = 0; i < 8; ++i)
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    t[b] = crc;
  }
  return t;
}

constexpr std::array<std::uint16_t, 256> table = make_table();

// Slicing by four: tables[k][b] is the CRC of byte b followed by k zero bytes. The CRC is
// linear (XOR), so four bytes are the XOR of four independent lookups instead of a chain of
// four dependent ones (a key's slot is computed for every number a batch checks).
constexpr std::array<std::array<std::uint16_t, 256>, 4> make_tables() {
  std::array<std::array<std::uint16_t, 256>, 4> t{};
  t[0] = table;
  for (std::size_t k = 1; k < 4; ++k)
    for (unsigned b = 0; b < 256; ++b) {
      const std::uint16_t v = t[k - 1][b];
      t[k][b] = static_cast<std::uint16_t>((v << 8) ^ table[v >> 8]);
    }
  return t;
}

constexpr auto tables = make_tables();

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  for (; n >= 4; n -= 4, p += 4)
    crc = static_cast<std::uint16_t>(tables[3][(crc >> 8) ^ p[0]] ^ tables[2][(crc & 0xff) ^ p[1]] ^
                                     tables[1][p[2]] ^ tables[0][p[3]]);
  for (; n > 0; --n, ++p)
    crc = static_cast<std::uint16_t>((crc << 8) ^ table[((crc >> 8) ^ *p) & 0xff]);
  return crc;
}

std::string_view hash_tag(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  // "{}" (nothing between) and a '{' without a later '}' hash the whole key.
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) noexcept {
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) & (slot_count - 1));
}

}  // namespace stopgate::redis
