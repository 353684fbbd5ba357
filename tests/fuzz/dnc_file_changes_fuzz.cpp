// Fuzzes the ftc-changes reader with the default layout (number,date,flag) and, chosen by
// the first byte, a split-number layout; see dnc_file_fuzz.hpp.
#include "tests/fuzz/dnc_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  stopgate::dnc::lists::reader_options o;
  o.format = stopgate::dnc::lists::file_format::ftc_changes;
  if (size > 0 && data[0] & 0x80) {
    o.flag_column = 0;
    o.number_column = 1;
    o.local_column = 2;
    o.date_column = 3;
    o.delimiter = '|';
  }
  stopgate::dnc::fuzz::run(data, size, o, true);
  return 0;
}
