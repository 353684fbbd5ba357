#include "gateway/evidence/record.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace stopgate::evidence {

namespace {

constexpr std::array<std::string_view, 17> type_names = {
    "consent",  "optout",   "optin",     "inbound",   "decision",  "send",
    "carrier_result", "status", "list_load", "forget", "checkpoint", "recovered",
    "retention", "queued",  "released",  "cancelled", "expired"};

// True for the ASCII bytes a JSON string holds as they are (no escape).
constexpr bool plain_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

}  // namespace

bool append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy runs of plain characters at once: most values are plain ASCII.
    std::size_t run = i;
    while (run < s.size() && plain_ascii(static_cast<unsigned char>(s[run]))) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
          constexpr char hex[] = "0123456789abcdef";
          const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out.append(esc, sizeof esc);
        }
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8: check lead byte, continuation bytes, overlongs and surrogates.
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    out.append(s.data() + i, len);
    i += len;
  }
  out += '"';
  return true;
}

namespace {

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

bool append_object(std::string& out, const boost::json::object& o) {
  using kv = const boost::json::key_value_pair*;
  // Sort pointers on the stack for the usual small objects; big ones use the heap.
  std::array<kv, 32> small;
  std::vector<kv> big;
  kv* first = small.data();
  if (o.size() > small.size()) {
    big.resize(o.size());
    first = big.data();
  }
  std::size_t n = 0;
  for (const auto& e : o) first[n++] = &e;
  std::sort(first, first + n, [](kv a, kv b) { return a->key() < b->key(); });
  out += '{';
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    if (!append_json_string(out, first[i]->key())) return false;
    out += ':';
    if (!append_canonical(out, first[i]->value())) return false;
  }
  out += '}';
  return true;
}

bool parse_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string_view to_string(record_type t) noexcept { return type_names[std::size_t(t)]; }

std::optional<record_type> parse_record_type(std::string_view s) noexcept {
  for (std::size_t i = 0; i < type_names.size(); ++i)
    if (type_names[i] == s) return record_type(i);
  return std::nullopt;
}

bool is_reserved_field(std::string_view name) noexcept {
  return name == "id" || name == "seq" || name == "ts" || name == "type" || name == "prev" ||
         name == "hash";
}

bool append_canonical(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return true;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return true;
    case boost::json::kind::int64: append_int(out, v.get_int64()); return true;
    case boost::json::kind::uint64: append_int(out, v.get_uint64()); return true;
    // Float text differs between JSON libraries, so the canonical form has none.
    case boost::json::kind::double_: return false;
    case boost::json::kind::string: return append_json_string(out, v.get_string());
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        if (!append_canonical(out, e)) return false;
      }
      out += ']';
      return true;
    }
    case boost::json::kind::object: return append_object(out, v.get_object());
  }
  return false;
}

void write_ts(time_point t, char* out) noexcept {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{sys_days{day}};
  auto us = (t - day).count();
  // Fixed-width digits written right to left (snprintf costs more than the whole record).
  auto put = [&](std::size_t pos, std::size_t width, long long v) {
    for (std::size_t k = width; k > 0; --k, v /= 10) out[pos + k - 1] = char('0' + v % 10);
  };
  put(0, 4, int(ymd.year()));
  out[4] = '-';
  put(5, 2, unsigned(ymd.month()));
  out[7] = '-';
  put(8, 2, unsigned(ymd.day()));
  out[10] = 'T';
  put(11, 2, us / 3'600'000'000LL);
  us %= 3'600'000'000LL;
  out[13] = ':';
  put(14, 2, us / 60'000'000LL);
  us %= 60'000'000LL;
  out[16] = ':';
  put(17, 2, us / 1'000'000LL);
  out[19] = '.';
  put(20, 6, us % 1'000'000LL);
  out[26] = 'Z';
}

std::string format_ts(time_point t) {
  std::string s(ts_size, '\0');
  write_ts(t, s.data());
  return s;
}

std::optional<time_point> parse_ts(std::string_view s) noexcept {
  using namespace std::chrono;
  int y, mo, d, hh = 0, mi = 0, ss = 0;
  if (!parse_digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !parse_digits(s, 5, 2, mo) ||
      s[7] != '-' || !parse_digits(s, 8, 2, d))
    return std::nullopt;
  const year_month_day ymd{year{y}, month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok()) return std::nullopt;
  long long frac_us = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !parse_digits(s, 11, 2, hh) ||
        s.size() < 19 || s[13] != ':' || !parse_digits(s, 14, 2, mi) || s[16] != ':' ||
        !parse_digits(s, 17, 2, ss) || hh > 23 || mi > 59 || ss > 60)
      return std::nullopt;
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) frac_us = frac_us * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int k = digits; k < 6; ++k) frac_us *= 10;
    }
    const std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  }
  return time_point{sys_days{ymd}} + hours{hh} + minutes{mi} + seconds{ss} +
         microseconds{frac_us};
}

digest line_hash(sha256& h, std::string_view line) {
  h.update(line.substr(0, line.size() - hash_suffix_size));
  h.update("}");
  return h.finish();
}

std::string_view stored_hash(std::string_view line) noexcept {
  if (line.size() <= hash_suffix_size) return {};
  const std::string_view tail = line.substr(line.size() - hash_suffix_size);
  if (tail.substr(0, 9) != ",\"hash\":\"" || tail.substr(73) != "\"}") return {};
  const std::string_view hex = tail.substr(9, 64);
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  return hex;
}

std::string checkpoint_mac(std::string_view key, std::uint64_t head_seq,
                           std::string_view head_hash) {
  std::string msg = "stopgate-evidence-checkpoint-v1\n";
  append_int(msg, head_seq);
  msg += '\n';
  msg += head_hash;
  return to_hex(hmac_sha256(key, msg));
}

std::string key_id(std::string_view key) {
  return to_hex(hmac_sha256(key, "stopgate-evidence-key-id-v1")).substr(0, 16);
}

}  // namespace stopgate::evidence
