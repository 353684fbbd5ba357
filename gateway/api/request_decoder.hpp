// Decodes one NDJSON line into a request: a JSON object with a string `op` and an optional
// `id` (a JSON string or number, kept as its raw text so it can be echoed verbatim).
//
// Uses one reused Boost.JSON parser; the request object is allocated from storage the caller
// passes (the connection's per-request monotonic arena), so steady-state decoding does not
// touch the heap. Not thread-safe (one per connection).
#pragma once

#include "gateway/api/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace stopgate::gateway::api {

/// A decoded request. `op` points into `object`; `id` points into the line (copy it if the
/// line buffer may change).
struct request_line {
  std::string_view op;
  std::string_view id;  // raw JSON text of `id`; "null" when absent
  const boost::json::object* object = nullptr;
};

/// Why a line is not a request. `id` is the raw id when it could be read, else "null".
struct request_error {
  api_errc code = api_errc::bad_json;
  std::string message;
  std::string_view id = "null";
};
[[noreturn]] void throw_exception_from_error(const request_error& e,
                                             const boost::source_location& loc);

using decode_result = boost::system::result<request_line, request_error>;

class request_decoder {
 public:
  request_decoder();

  /// Parses `line` into `out` (allocated from `sp`). On success `out` holds the object and
  /// the result points into it; on bad_json `out` may be empty.
  decode_result decode(std::string_view line, std::optional<boost::json::value>& out,
                       boost::json::storage_ptr sp);

 private:
  boost::json::parser parser_;
};

/// The raw text of the top-level member `key` of a JSON object text that is known to be valid;
/// nullopt when absent. `duplicate` is set when the key occurs more than once.
std::optional<std::string_view> find_raw_member(std::string_view json, std::string_view key,
                                                bool& duplicate);

}  // namespace stopgate::gateway::api
