// Fuzzes the number parsers: no crash, and every accepted number round-trips through its
// E.164 form unchanged.
#include "dnc/model/phone_number.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace stopgate::dnc::model;
  for (auto r : {parse_e164(in), parse_phone(in)}) {
    if (!r) continue;
    auto again = parse_e164(r->e164());
    if (!again || *again != *r) std::abort();
  }
  return 0;
}
