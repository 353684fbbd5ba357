// Fuzzes the csv reader (header row, RFC 4180 quoting, column "phone"); see
// dnc_file_fuzz.hpp.
#include "tests/fuzz/dnc_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  stopgate::dnc::lists::reader_options o;
  o.format = stopgate::dnc::lists::file_format::csv;
  stopgate::dnc::fuzz::run(data, size, o, false);
  return 0;
}
