// One Redis reply as a plain value (RESP2 types). Built from hiredis' reply tree once, owned
// by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stopgate::redis {

/// A Redis reply. Thread-safe value type.
struct reply {
  enum class type { nil, status, error, integer, string, array };
  type kind = type::nil;
  std::int64_t integer = 0;
  std::string str;              // status, error and string (binary safe)
  std::vector<reply> elements;  // array

  bool is_error() const noexcept { return kind == type::error; }
  bool is_nil() const noexcept { return kind == type::nil; }
};

}  // namespace stopgate::redis
