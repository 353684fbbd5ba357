// The in-memory form of one area code of a registry list: 10^7 bits, bit i set when the
// number NPA-i (i = NXX*10^4 + line) is listed. Byte and bit order are Redis's (offset 0 is
// the most significant bit of byte 0), so the bytes are exactly the value of the Redis key
// and `GETBIT key i` agrees with contains(i).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace stopgate::dnc::model {

class npa_bitmap {
 public:
  static constexpr std::uint32_t bits = 10'000'000;
  static constexpr std::size_t bytes = bits / 8;  // 1,250,000

  /// All bits clear. Allocation is zero-filled lazily by the kernel for a fresh mapping.
  npa_bitmap() : data_(new std::uint8_t[bytes]()) {}
  /// Adopts a Redis value; a shorter value (Redis trims trailing zero bytes never, but a
  /// SETBIT-built key may be shorter) is zero-extended, a longer one truncated.
  explicit npa_bitmap(std::string_view redis_value) : data_(new std::uint8_t[bytes]()) {
    std::memcpy(data_.get(), redis_value.data(),
                redis_value.size() < bytes ? redis_value.size() : bytes);
  }

  /// Thread-safe for concurrent readers once built.
  bool contains(std::uint32_t local7) const noexcept {
    return (data_[local7 >> 3] >> (7 - (local7 & 7))) & 1u;
  }
  /// Sets the bit; returns true when it was clear (so callers count distinct numbers).
  bool set(std::uint32_t local7) noexcept {
    std::uint8_t& b = data_[local7 >> 3];
    const std::uint8_t m = std::uint8_t(0x80u >> (local7 & 7));
    const bool was_clear = (b & m) == 0;
    b |= m;
    return was_clear;
  }
  /// Clears the bit; returns true when it was set.
  bool clear(std::uint32_t local7) noexcept {
    std::uint8_t& b = data_[local7 >> 3];
    const std::uint8_t m = std::uint8_t(0x80u >> (local7 & 7));
    const bool was_set = (b & m) != 0;
    b &= std::uint8_t(~m);
    return was_set;
  }
  /// Number of set bits.
  std::uint64_t count() const noexcept;
  /// Calls f(local7) for every set bit in ascending order.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < bytes; ++i) {
      std::uint8_t b = data_[i];
      while (b) {
        const int hi = __builtin_clz(unsigned(b)) - 24;  // index of the highest set bit, 0..7
        f(std::uint32_t(i * 8 + hi));
        b &= std::uint8_t(~(0x80u >> hi));
      }
    }
  }

  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(data_.get()), bytes};
  }
  npa_bitmap clone() const {
    npa_bitmap c;
    std::memcpy(c.data_.get(), data_.get(), bytes);
    return c;
  }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
};

}  // namespace stopgate::dnc::model
