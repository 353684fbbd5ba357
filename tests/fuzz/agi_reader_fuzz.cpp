// Fuzzes the FastAGI session reader: any bytes, split into lines as the server does, never
// crash it; it asks for at most one check; every line it writes is one SET VARIABLE command
// ending in its only '\n'; once closed it stays closed. Checks are answered in turn with
// allow, deny and defer.
#include "gateway/dialer/fastagi/session.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace stopgate::gateway::dialer;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_write(const std::string& w) {
  if (w.empty()) return;
  check(w.starts_with("SET VARIABLE STOPGATE_"));
  check(w.find('\n') == w.size() - 1);
  check(w.find('\r') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  fastagi::session s(fastagi::session_options{});
  fastagi::session_output out;
  int checks = 0;
  bool closed = false;
  std::size_t start = 0;
  while (start <= in.size()) {
    std::size_t nl = in.find('\n', start);
    std::string_view line =
        in.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.clear();
    s.on_line(line, out);
    check(!closed || out.close);
    check_write(out.write);
    if (out.check) {
      check(++checks == 1);
      voice_answer a;
      a.outcome = decision(size % 3);
      a.reasons = {"quiet_hours"};
      a.retry_at_text = std::string(line.substr(0, 40));
      out.clear();
      s.on_answer(a, out);
      check_write(out.write);
    }
    closed = closed || out.close;
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out.clear();
  s.on_end_of_input(out);
  check(out.close);
  return 0;
}
