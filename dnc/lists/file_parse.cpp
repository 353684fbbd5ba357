// Per-format line parsers of the DNC file readers. Pure functions over one line; the ftc
// path is the hot one (hundreds of millions of lines per load), so it parses digits in
// place and allocates nothing.
#include "dnc/lists/file_detail.hpp"

#include <algorithm>
#include <array>

namespace stopgate::dnc::lists::detail {
namespace {

// Parses exactly s.size() ASCII digits; false on any other character.
inline bool digits(std::string_view s, std::uint64_t& v) noexcept {
  std::uint64_t r = 0;
  for (char c : s) {
    const unsigned d = unsigned(static_cast<unsigned char>(c)) - unsigned('0');
    if (d > 9) return false;
    r = r * 10 + d;
  }
  v = r;
  return true;
}

inline line_result bad(const char* why, boost::system::error_code ec = {}) noexcept {
  line_result r;
  r.kind = line_kind::bad;
  r.why = why;
  r.number_error = ec;
  return r;
}

inline line_result blank() noexcept {
  line_result r;
  r.kind = line_kind::blank;
  return r;
}

// A 10-digit national number that passed model::check_nanp becomes a +1 entry.
inline line_result nanp_entry(std::uint64_t national10) noexcept {
  if (auto ec = model::check_nanp(national10)) return bad("invalid number", ec);
  line_result r;
  r.kind = line_kind::number;
  r.value.number = model::phone_number::from_value(10'000'000'000ULL + national10);
  return r;
}

// "4155552671" or "415,5552671".
inline bool ftc_digits(std::string_view s, std::uint64_t& n) noexcept {
  if (s.size() == 10) return digits(s, n);
  std::uint64_t npa, local;
  if (s.size() == 11 && s[3] == ',' && digits(s.substr(0, 3), npa) && digits(s.substr(4), local)) {
    n = npa * 10'000'000ULL + local;
    return true;
  }
  return false;
}

// Change-list fields may be quoted; the quotes are not part of the value.
std::string_view unquote(std::string_view s) noexcept {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

line_result parse_ftc_line(std::string_view line) noexcept {
  std::uint64_t n;
  // Fast path: the exact forms, no trimming needed.
  if (ftc_digits(line, n)) return nanp_entry(n);
  line = trim(line);
  if (line.empty()) return blank();
  if (ftc_digits(line, n)) return nanp_entry(n);
  return bad("expected 10 digits or NPA,NNNNNNN");
}

line_result parse_lines_line(std::string_view line) noexcept {
  std::uint64_t n;
  if (line.size() == 10 && digits(line, n)) return nanp_entry(n);
  line = trim(line);
  if (line.empty()) return blank();
  auto p = model::parse_phone(line);
  if (!p) return bad("invalid number", p.error());
  line_result r;
  r.kind = line_kind::number;
  r.value.number = *p;
  return r;
}

bool parse_change_date(std::string_view s, std::chrono::sys_days& out) noexcept {
  using namespace std::chrono;
  // A time of day after the date is allowed and ignored.
  if (auto cut = s.find_first_of(" T"); cut != std::string_view::npos) {
    for (char c : s.substr(cut + 1))
      if (!((c >= '0' && c <= '9') || c == ':' || c == '.' || c == 'Z' || c == '+' || c == '-'))
        return false;
    s = s.substr(0, cut);
  }
  std::uint64_t y, m, d;
  bool ok = false;
  if (s.size() == 8) {
    ok = digits(s.substr(0, 4), y) && digits(s.substr(4, 2), m) && digits(s.substr(6, 2), d);
  } else if (s.size() == 10 && (s[4] == '-' || s[4] == '/') && s[7] == s[4]) {
    ok = digits(s.substr(0, 4), y) && digits(s.substr(5, 2), m) && digits(s.substr(8, 2), d);
  } else if (s.size() == 10 && s[2] == '/' && s[5] == '/') {
    ok = digits(s.substr(0, 2), m) && digits(s.substr(3, 2), d) && digits(s.substr(6, 4), y);
  }
  if (!ok) return false;
  const year_month_day ymd{year(int(y)), month(unsigned(m)), day(unsigned(d))};
  if (!ymd.ok()) return false;
  out = sys_days(ymd);
  return true;
}

line_result parse_changes_line(std::string_view line, const reader_options& o) noexcept {
  if (trim(line).empty()) return blank();
  // Only the configured columns matter; check_reader_options bounds them below 64.
  std::array<std::string_view, 64> fields;
  const int want = std::max({o.number_column, o.local_column, o.date_column, o.flag_column}) + 1;
  int count = 0;
  std::size_t pos = 0;
  while (count < want) {
    const std::size_t cut = line.find(o.delimiter, pos);
    fields[std::size_t(count++)] = unquote(line.substr(pos, cut - pos));
    if (cut == std::string_view::npos) break;
    pos = cut + 1;
  }
  if (count < want) return bad("too few fields for the configured columns");

  std::uint64_t n = 0;
  const std::string_view num = fields[std::size_t(o.number_column)];
  if (o.local_column < 0) {
    if (num.size() != 10 || !digits(num, n)) return bad("number: expected 10 digits");
  } else {
    const std::string_view local = fields[std::size_t(o.local_column)];
    std::uint64_t npa, l;
    if (num.size() != 3 || !digits(num, npa)) return bad("number: expected a 3-digit area code");
    if (local.size() != 7 || !digits(local, l)) return bad("number: expected 7 local digits");
    n = npa * 10'000'000ULL + l;
  }

  const std::string_view flag = fields[std::size_t(o.flag_column)];
  change_op op;
  if (iequals(flag, o.add_flag) || iequals(flag, "add")) {
    op = change_op::add;
  } else if (iequals(flag, o.delete_flag) || iequals(flag, "delete")) {
    op = change_op::remove;
  } else {
    return bad("unknown add/delete flag");
  }

  std::chrono::sys_days date{};
  if (o.date_column >= 0 && !parse_change_date(fields[std::size_t(o.date_column)], date))
    return bad("date: expected YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or MM/DD/YYYY");

  line_result r = nanp_entry(n);
  r.value.op = op;
  r.value.date = date;
  return r;
}

csv_field_status csv_next_field(std::string_view rec, std::size_t& pos, char delimiter,
                                std::string& out) {
  out.clear();
  if (pos == std::string_view::npos) return csv_field_status::end;
  std::size_t i = pos;
  if (i < rec.size() && rec[i] == '"') {
    // Quoted field: "" is a literal quote; after the closing quote only the delimiter (or
    // spaces before it) may follow.
    ++i;
    for (;;) {
      const std::size_t q = rec.find('"', i);
      if (q == std::string_view::npos) return csv_field_status::malformed;
      out.append(rec.substr(i, q - i));
      if (q + 1 < rec.size() && rec[q + 1] == '"') {
        out.push_back('"');
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    while (i < rec.size() && (rec[i] == ' ' || rec[i] == '\t')) ++i;
    if (i == rec.size()) {
      pos = std::string_view::npos;
    } else if (rec[i] == delimiter) {
      pos = i + 1;
    } else {
      return csv_field_status::malformed;
    }
    return csv_field_status::ok;
  }
  const std::size_t cut = rec.find(delimiter, i);
  out.append(rec.substr(i, cut == std::string_view::npos ? std::string_view::npos : cut - i));
  pos = cut == std::string_view::npos ? cut : cut + 1;
  return csv_field_status::ok;
}

line_result parse_csv_line(std::string_view line, char delimiter, std::size_t column,
                           std::string& scratch) {
  if (trim(line).empty()) return blank();
  std::size_t pos = 0;
  for (std::size_t i = 0;; ++i) {
    const auto st = csv_next_field(line, pos, delimiter, scratch);
    if (st == csv_field_status::malformed) return bad("malformed quoted field");
    if (st == csv_field_status::end) return bad("row has fewer fields than the header");
    if (i == column) break;
  }
  auto p = model::parse_phone(scratch);
  if (!p) return bad("invalid number", p.error());
  line_result r;
  r.kind = line_kind::number;
  r.value.number = *p;
  return r;
}

}  // namespace stopgate::dnc::lists::detail
