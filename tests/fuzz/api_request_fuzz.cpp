// libFuzzer target for the socket API's line framer and request decoder.
//
// Input: one byte choosing the line limit, one byte seeding the chunk sizes, then the stream.
// Checks: no crash; the number of outcomes equals the number of non-blank lines a simple
// reference splitter finds; each outcome is a request, an error with a valid code, or
// line_too_long; feeding the bytes in random chunks gives exactly the outcomes of one chunk;
// every response serialises to a valid JSON object line.
#include "gateway/api/line_framer.hpp"
#include "gateway/api/request_decoder.hpp"
#include "gateway/api/response_writer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace api = stopgate::gateway::api;

namespace {

std::string outcome(api::request_decoder& decoder, const api::frame_event& ev) {
  std::string out;
  if (ev.what == api::frame_event::kind::too_long) {
    api::append_error(out, "null", api::api_errc::line_too_long, "too long");
    return out;
  }
  std::optional<boost::json::value> value;
  boost::json::monotonic_resource mr;
  auto r = decoder.decode(ev.line, value, boost::json::storage_ptr(&mr));
  if (r) {
    boost::json::serializer sr;
    boost::json::object fields{{"op", r->op}};
    api::append_ok(out, r->id, fields, sr);
  } else {
    api::append_error(out, r.error().id, r.error().code, r.error().message);
  }
  return out;
}

std::vector<std::string> run(std::string_view input, std::size_t max_line, std::uint32_t seed,
                             bool chunked) {
  api::line_framer framer(max_line, 64);
  api::request_decoder decoder;
  std::vector<std::string> out;
  auto drain = [&] {
    for (;;) {
      auto ev = framer.next();
      if (ev.what == api::frame_event::kind::need_more) break;
      out.push_back(outcome(decoder, ev));
    }
  };
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto space = framer.prepare();
    std::size_t n = std::min(space.size(), input.size() - pos);
    if (chunked) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (seed >> 16) % 97);
    }
    std::memcpy(space.data(), input.data() + pos, n);
    framer.commit(n);
    pos += n;
    drain();
  }
  auto ev = framer.finish();
  if (ev.what != api::frame_event::kind::need_more) out.push_back(outcome(decoder, ev));
  return out;
}

/// Non-blank lines ('\n'-separated, one trailing '\r' dropped), the last one unterminated. A
/// blank line holds only spaces, tabs and '\r'; one longer than the limit is still answered
/// (line_too_long is decided before the content is looked at).
std::size_t reference_lines(std::string_view input, std::size_t max_line) {
  std::size_t count = 0;
  while (!input.empty()) {
    auto nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
    if (!blank || line.size() > max_line) ++count;
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t max_line = 8 + data[0] * 4;
  std::uint32_t seed = data[1];
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  auto whole = run(input, max_line, seed, false);
  auto pieces = run(input, max_line, seed, true);
  if (whole != pieces) std::abort();
  if (whole.size() != reference_lines(input, max_line)) std::abort();
  for (const auto& line : whole) {
    if (line.empty() || line.back() != '\n') std::abort();
    boost::system::error_code ec;
    auto v = boost::json::parse(std::string_view(line).substr(0, line.size() - 1), ec);
    if (ec || !v.is_object() || !v.as_object().contains("id") || !v.as_object().contains("ok")) std::abort();
  }
  return 0;
}
