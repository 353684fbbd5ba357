// Shared body of the dnc_file_*_fuzz targets. The first two input bytes choose the chunk size
// and the line limit; the rest is the file. Checks, for every input:
// - no crash, no error except the documented whole-file ones;
// - the counters add up and the kept bad lines are the first ones, in order, bounded;
// - every returned number is valid (round-trips through strict E.164; +1 passes check_nanp);
// - reading with another chunk size, another batch size, or through gzip gives the same result.
#pragma once

#include "dnc/lists/file.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace stopgate::dnc::fuzz {

using namespace stopgate::dnc::lists;
using namespace stopgate::dnc::model;

struct outcome {
  std::vector<entry> entries;
  read_stats stats;
  boost::system::error_code ec;
};

inline outcome read_all(std::string data, const reader_options& o, std::size_t batch) {
  outcome out;
  auto r = dnc_file_reader::from_memory(std::move(data), o);
  std::vector<entry> buf;
  for (;;) {
    auto more = r.next_batch(buf, batch);
    if (!more) {
      out.ec = more.error();
      break;
    }
    if (buf.size() > batch) std::abort();
    out.entries.insert(out.entries.end(), buf.begin(), buf.end());
    if (!*more) break;
  }
  out.stats = r.stats();
  return out;
}

inline std::string gzip(const std::string& plain) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, uLong(plain.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline bool same(const outcome& a, const outcome& b) {
  if (a.ec != b.ec || a.entries.size() != b.entries.size()) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const entry &x = a.entries[i], &y = b.entries[i];
    if (x.number != y.number || x.op != y.op || x.date != y.date) return false;
  }
  if (a.stats.lines != b.stats.lines || a.stats.numbers != b.stats.numbers ||
      a.stats.blank != b.stats.blank || a.stats.bad != b.stats.bad ||
      a.stats.first_bad.size() != b.stats.first_bad.size())
    return false;
  for (std::size_t i = 0; i < a.stats.first_bad.size(); ++i) {
    const bad_line &x = a.stats.first_bad[i], &y = b.stats.first_bad[i];
    if (x.line_no != y.line_no || x.reason != y.reason || x.text != y.text) return false;
  }
  return true;
}

inline void check(const outcome& o, bool nanp_only, std::uint64_t header_lines) {
  if (o.ec) {
    // Memory input cannot fail to read; only csv header problems are whole-file errors.
    if (o.ec != file_errc::csv_no_header && o.ec != file_errc::csv_missing_column &&
        o.ec != file_errc::zip_archive && o.ec != file_errc::gzip_corrupt &&
        o.ec != file_errc::gzip_truncated)
      std::abort();
    return;
  }
  const read_stats& s = o.stats;
  if (s.lines != s.numbers + s.blank + s.bad + header_lines) std::abort();
  if (s.numbers != o.entries.size()) std::abort();
  if (s.first_bad.size() != std::min<std::uint64_t>(s.bad, read_stats::max_kept_bad)) std::abort();
  std::uint64_t prev = 0;
  for (const auto& b : s.first_bad) {
    if (b.line_no <= prev || b.text.size() > read_stats::max_bad_text || b.reason.empty())
      std::abort();
    prev = b.line_no;
  }
  for (const auto& e : o.entries) {
    auto again = parse_e164(e.number.e164());
    if (!again || *again != e.number) std::abort();
    if (nanp_only && (!e.number.is_nanp() || check_nanp(e.number.national10()))) std::abort();
  }
}

/// Runs one input through the checks for the options `o` (chunk and line limit are set here).
inline void run(const std::uint8_t* data, std::size_t size, reader_options o, bool nanp_only) {
  if (size < 2 || size > 64 * 1024) return;
  o.chunk_bytes = 1 + data[0] % 64;
  o.max_line_bytes = 16 + data[1] % 64;
  const std::string text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::uint64_t header = o.format == file_format::csv ? 1 : 0;

  const outcome a = read_all(text, o, 1 + data[0] % 7);
  check(a, nanp_only, header);

  reader_options big = o;
  big.chunk_bytes = 4096;
  if (!same(a, read_all(text, big, 65536))) std::abort();
  // gzip is decoded transparently: the same bytes compressed read the same.
  // (Inputs that already look like gzip or zip are decoded differently when wrapped.)
  if (text.empty() || (text[0] != '\x1f' && text[0] != 'P')) {
    if (!same(a, read_all(gzip(text), o, 3))) std::abort();
  }
}

}  // namespace stopgate::dnc::fuzz
