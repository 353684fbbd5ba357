#include "dnc/model/npa_bitmap.hpp"

namespace stopgate::dnc::model {

std::uint64_t npa_bitmap::count() const noexcept {
  // 8 bytes at a time with the hardware popcount; bytes is a multiple of 8.
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data_.get() + i, 8);
    n += std::uint64_t(__builtin_popcountll(w));
  }
  return n;
}

}  // namespace stopgate::dnc::model
