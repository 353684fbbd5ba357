// Shared helpers for the evidence tests: a manual clock, small options, file editing.
#pragma once

#include "gateway/evidence/log.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/evidence/segment.hpp"

#include <boost/json/parse.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace stopgate::evidence::test {

/// A clock the test moves by hand; safe to read from the writer thread.
struct manual_clock {
  std::atomic<std::int64_t> us;
  explicit manual_clock(std::string_view start = "2026-11-29T10:00:00Z")
      : us(parse_ts(start)->time_since_epoch().count()) {}
  time_point now() const { return time_point(std::chrono::microseconds(us.load())); }
  void advance(std::chrono::microseconds d) { us += d.count(); }
  log_hooks hooks() {
    log_hooks h;
    h.clock = [this] { return now(); };
    return h;
  }
};

inline options small_options(const std::filesystem::path& dir) {
  options o;
  o.dir = dir;
  o.instance = "gw1";
  o.hmac_key = "test-hmac-key-0123456789";
  o.checkpoint_every = 5;
  return o;
}

inline boost::json::object fields(std::string_view to, std::string_view extra = "x") {
  boost::json::object f;
  f["to"] = to;
  f["from"] = "+14155550000";
  f["note"] = extra;
  return f;
}

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_all(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

inline std::vector<segment_file> segments(const std::filesystem::path& dir) {
  return list_segments(dir).value();
}

/// What an attacker without the HMAC key can do: re-serialise every record after an edit and
/// recompute every prev/hash (and checkpoint head_hash) so the plain chain holds again.
inline std::vector<std::string> rechain(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::string prev;
  for (const auto& l : lines) {
    auto o = boost::json::parse(l).as_object();
    o.erase("hash");
    if (!prev.empty()) o["prev"] = prev;
    if (o["type"] == "checkpoint") o["head_hash"] = o["prev"];
    std::string canon;
    append_canonical(canon, o);
    prev = to_hex(sha256::of(canon));
    canon.pop_back();
    out.push_back(canon + ",\"hash\":\"" + prev + "\"}");
  }
  return out;
}

}  // namespace stopgate::evidence::test
