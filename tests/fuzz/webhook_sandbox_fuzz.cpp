// sandbox webhook and send-response parsers under libFuzzer (see webhook_fuzz.hpp).
#include "webhook_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return stopgate::fuzz::run_wire_fuzz(stopgate::config::carrier_type::sandbox, data, size);
}
