// dnc_file_reader: one reused buffer of (max line + chunk) bytes. Lines are found with memchr
// and parsed in place; a line that does not fit is reported as bad and skipped, so memory
// stays bounded whatever the file holds.
#include "dnc/lists/file.hpp"

#include "dnc/lists/file_detail.hpp"

#include <algorithm>
#include <cstring>

namespace stopgate::dnc::lists {
namespace {

// result<bool> does not convert implicitly from an error_code (bool would be ambiguous).
boost::system::result<bool> failed(boost::system::error_code ec) {
  return {boost::system::in_place_error, ec};
}

}  // namespace

struct dnc_file_reader::impl {
  enum class rec_status : std::uint8_t { record, overlong, end };

  reader_options opt;
  detail::input in;
  read_stats stats;
  std::string error_msg;
  boost::system::error_code error;  // sticky: once failed, every call fails the same way

  std::unique_ptr<char[]> buf;
  std::size_t cap = 0, pos = 0, end = 0;
  bool eof = false, started = false, done = false;
  std::uint64_t line_no = 0;  // physical lines consumed so far

  bool header_done = false;
  std::size_t csv_column = 0;
  std::string scratch;    // csv unquoting, reused
  std::string long_text;  // start of the current over-long line, reused

  boost::system::error_code fail(boost::system::error_code ec) {
    error = ec;
    return ec;
  }

  // Moves the unread tail to the front and appends what the input gives.
  boost::system::error_code refill() {
    if (pos > 0) {
      std::memmove(buf.get(), buf.get() + pos, end - pos);
      end -= pos;
      pos = 0;
    }
    auto n = in.read(buf.get() + end, cap - end, error_msg);
    if (!n) return n.error();
    if (*n == 0) eof = true;
    end += *n;
    return {};
  }

  boost::system::error_code start() {
    started = true;
    if (auto ec = check_reader_options(opt)) {
      error_msg = in.name() + ": invalid reader options";
      return ec;
    }
    // Room for one whole line plus one chunk, so a refill always makes progress.
    cap = opt.max_line_bytes + 1 + opt.chunk_bytes;
    buf.reset(new char[cap]);
    while (end < 3 && !eof)
      if (auto ec = refill()) return ec;
    // A UTF-8 byte-order mark is not part of the first line.
    if (end >= 3 && std::memcmp(buf.get(), "\xEF\xBB\xBF", 3) == 0) pos = 3;
    return {};
  }

  // The end of the record starting at p: the offset of its '\n', or npos. In csv a newline
  // inside a quoted field does not end the record (quotes are balanced per RFC 4180).
  std::size_t find_end(const char* p, std::size_t n, std::size_t& newlines) const noexcept {
    if (opt.format != file_format::csv) {
      const void* nl = std::memchr(p, '\n', n);
      newlines = 1;
      return nl ? std::size_t(static_cast<const char*>(nl) - p) : std::string_view::npos;
    }
    bool quoted = false;
    newlines = 0;
    for (std::size_t i = 0; i < n;) {
      const void* nl = std::memchr(p + i, '\n', n - i);
      if (!nl) return std::string_view::npos;
      const std::size_t j = std::size_t(static_cast<const char*>(nl) - p);
      if (std::count(p + i, p + j, '"') % 2 != 0) quoted = !quoted;
      ++newlines;
      if (!quoted) return j;
      i = j + 1;
    }
    return std::string_view::npos;
  }

  boost::system::result<rec_status> next_record(std::string_view& rec, std::uint64_t& first) {
    for (;;) {
      const char* p = buf.get() + pos;
      const std::size_t avail = end - pos;
      std::size_t newlines = 0;
      const std::size_t j = find_end(p, avail, newlines);
      if (j != std::string_view::npos && j <= opt.max_line_bytes) {
        first = line_no + 1;
        line_no += newlines;
        pos += j + 1;
        rec = {p, j};
        return rec_status::record;
      }
      if (avail > opt.max_line_bytes) return skip_long_line(p, first);
      if (eof) {
        if (avail == 0) return rec_status::end;
        first = line_no + 1;
        line_no += 1 + std::size_t(std::count(p, p + avail, '\n'));
        pos = end;
        rec = {p, avail};
        return rec_status::record;
      }
      if (auto ec = refill()) return ec;
    }
  }

  // A line longer than the limit: it ends at the first newline after the limit (csv: even
  // inside quotes), wherever the chunks happened to end, so results never depend on the
  // chunk size. Keeps its first bytes for the report and drops the rest.
  boost::system::result<rec_status> skip_long_line(const char* p, std::uint64_t& first) {
    const std::size_t cut = opt.max_line_bytes + 1;
    first = line_no + 1;
    // csv records may hold quoted newlines before the cut; they are lines of this record.
    line_no += 1 + std::size_t(std::count(p, p + cut, '\n'));
    long_text.assign(p, std::min(cut, read_stats::max_bad_text));
    pos += cut;
    for (;;) {
      const char* q = buf.get() + pos;
      const void* nl = std::memchr(q, '\n', end - pos);
      const std::size_t n = nl ? std::size_t(static_cast<const char*>(nl) - q) : end - pos;
      if (long_text.size() < read_stats::max_bad_text)
        long_text.append(q, std::min(n, read_stats::max_bad_text - long_text.size()));
      if (nl) {
        pos += n + 1;
        return rec_status::overlong;
      }
      pos = end;
      if (eof) return rec_status::overlong;
      if (auto ec = refill()) return ec;
    }
  }

  void add_bad(std::uint64_t at, std::string_view why, boost::system::error_code number_error,
               std::string_view text) {
    ++stats.bad;
    if (stats.first_bad.size() >= read_stats::max_kept_bad) return;
    bad_line b;
    b.line_no = at;
    b.reason = why;
    if (number_error) b.reason.append(": ").append(number_error.message());
    b.text.assign(text.substr(0, read_stats::max_bad_text));
    stats.first_bad.push_back(std::move(b));
  }

  boost::system::error_code read_header(std::string_view rec, std::uint64_t at);
  boost::system::result<bool> fill(std::vector<entry>& out, std::size_t max);
};

// Finds the phone column by name. The error lists the columns found (bounded) so a user
// can fix --column or the file.
boost::system::error_code dnc_file_reader::impl::read_header(std::string_view rec,
                                                             std::uint64_t at) {
  const std::string_view want = detail::trim(opt.phone_column);
  std::string found;
  std::size_t p = 0, shown = 0;
  for (std::size_t i = 0;; ++i) {
    const auto st = detail::csv_next_field(rec, p, opt.delimiter, scratch);
    if (st == detail::csv_field_status::end) break;
    if (st == detail::csv_field_status::malformed) {
      error_msg =
          in.name() + ": csv header (line " + std::to_string(at) + ") has a malformed quoted field";
      return make_error_code(file_errc::csv_no_header);
    }
    const std::string_view name = detail::trim(scratch);
    if (detail::iequals(name, want)) {
      csv_column = i;
      header_done = true;
      return {};
    }
    if (shown < 30) {
      found.append(shown ? ", \"" : "\"").append(name.substr(0, 40)).append("\"");
      ++shown;
    } else if (shown++ == 30) {
      found.append(", ...");
    }
  }
  error_msg = in.name() + ": csv header (line " + std::to_string(at) + ") has no column \"" +
              std::string(want) + "\"; columns found: " + found;
  return make_error_code(file_errc::csv_missing_column);
}

boost::system::result<bool> dnc_file_reader::impl::fill(std::vector<entry>& out, std::size_t max) {
  std::string_view rec;
  std::uint64_t at = 0;
  while (out.size() < max) {
    auto st = next_record(rec, at);
    if (!st) return failed(st.error());
    if (*st == rec_status::end) {
      done = true;
      if (opt.format == file_format::csv && !header_done) {
        error_msg = in.name() + ": csv file has no header row";
        return failed(make_error_code(file_errc::csv_no_header));
      }
      break;
    }
    ++stats.lines;
    if (*st == rec_status::overlong) {
      add_bad(at, "line longer than " + std::to_string(opt.max_line_bytes) + " bytes", {},
              long_text);
      continue;
    }
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    detail::line_result r;
    switch (opt.format) {
      case file_format::ftc:
        r = detail::parse_ftc_line(rec);
        break;
      case file_format::lines:
        r = detail::parse_lines_line(rec);
        break;
      case file_format::ftc_changes:
        r = detail::parse_changes_line(rec, opt);
        break;
      case file_format::csv:
        if (!header_done) {
          if (detail::trim(rec).empty()) {
            ++stats.blank;
            continue;
          }
          if (auto ec = read_header(rec, at)) return failed(ec);
          continue;
        }
        r = detail::parse_csv_line(rec, opt.delimiter, csv_column, scratch);
        break;
    }
    switch (r.kind) {
      case detail::line_kind::number:
        out.push_back(r.value);
        ++stats.numbers;
        break;
      case detail::line_kind::blank:
        ++stats.blank;
        break;
      case detail::line_kind::bad:
        add_bad(at, r.why, r.number_error, rec);
        break;
    }
  }
  return !out.empty() || !done;
}

dnc_file_reader::dnc_file_reader(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
dnc_file_reader::dnc_file_reader(dnc_file_reader&&) noexcept = default;
dnc_file_reader& dnc_file_reader::operator=(dnc_file_reader&&) noexcept = default;
dnc_file_reader::~dnc_file_reader() = default;

boost::system::result<dnc_file_reader> dnc_file_reader::open(const std::filesystem::path& p,
                                                             reader_options o) {
  if (auto ec = check_reader_options(o)) return ec;
  auto i = std::make_unique<impl>();
  i->opt = std::move(o);
  if (auto ec = i->in.open_file(p, i->opt.chunk_bytes, i->error_msg)) return ec;
  i->stats.file_size = i->in.file_size();
  return dnc_file_reader(std::move(i));
}

dnc_file_reader dnc_file_reader::from_memory(std::string data, reader_options o) {
  auto i = std::make_unique<impl>();
  i->opt = std::move(o);
  i->in.open_memory(std::move(data), std::clamp<std::size_t>(i->opt.chunk_bytes, 1, 64 << 20));
  i->stats.file_size = i->in.file_size();
  return dnc_file_reader(std::move(i));
}

boost::system::result<bool> dnc_file_reader::next_batch(std::vector<entry>& out, std::size_t max) {
  out.clear();
  impl& s = *impl_;
  if (s.error) return failed(s.error);
  if (!s.started)
    if (auto ec = s.start()) return failed(s.fail(ec));
  if (s.done) return false;
  auto r = s.fill(out, std::max<std::size_t>(max, 1));
  s.stats.bytes_in = s.in.bytes_in();
  if (!r) {
    out.clear();
    return failed(s.fail(r.error()));
  }
  return *r;
}

const read_stats& dnc_file_reader::stats() const noexcept {
  return impl_->stats;
}
const std::string& dnc_file_reader::error_message() const noexcept {
  return impl_->error_msg;
}

}  // namespace stopgate::dnc::lists
