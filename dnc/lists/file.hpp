// Streaming readers for DNC list files (SPEC section 7): `ftc`, `ftc-changes`, `csv`, `lines`,
// plain or gzip, read in large chunks and handed out in batches of typed entries.
//
// A reader never fails because of one bad line: bad lines are counted, the first 20 are kept
// with their line numbers, and the caller decides (--max-bad) whether the load is acceptable.
// Only whole-file problems are errors: I/O errors, corrupt or truncated gzip, a csv without
// a header or without the named phone column, invalid options.
#pragma once

#include "dnc/model/phone_number.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::dnc::lists {

/// Whole-file failures of a DNC file reader. I/O errors are reported as errno codes
/// (boost::system generic category) instead. dnc_file_reader::error_message() gives the
/// detail (path, column names, zlib message).
enum class file_errc {
  unknown_format = 1,  // parse_file_format: not ftc, ftc-changes, csv or lines
  bad_options,         // reader_options fail check_reader_options
  zip_archive,         // a zip archive (FTC downloads): unzip it first
  gzip_corrupt,        // inflate reported bad data
  gzip_truncated,      // the file ended inside a gzip stream
  csv_no_header,       // a csv file with no header row
  csv_missing_column,  // the header has no column with the configured name
};

const boost::system::error_category& file_category() noexcept;
inline boost::system::error_code make_error_code(file_errc e) noexcept {
  return {static_cast<int>(e), file_category()};
}

enum class file_format { ftc, ftc_changes, csv, lines };

/// "ftc", "ftc-changes", "csv", "lines" (exact, lower case).
boost::system::result<file_format> parse_file_format(std::string_view text) noexcept;
/// The name parse_file_format accepts.
std::string_view to_string(file_format f) noexcept;

/// How to read one file. Plain values; checked once by check_reader_options.
struct reader_options {
  file_format format = file_format::ftc;

  // ftc-changes and csv: field delimiter.
  char delimiter = ',';

  // ftc-changes columns, 0-based. The FTC change-list layout is unconfirmed, so every
  // position is configurable (docs/DNC_FILES.md).
  int number_column = 0;  // 10-digit number, or the 3-digit NPA when local_column >= 0
  int local_column = -1;  // the 7-digit local part when the number is split, -1 = not split
  int date_column = 1;    // the change date, kept in entry::date; -1 = the file has none
  int flag_column = 2;    // the add/delete flag
  /// Flag spellings, compared case-insensitively; "add" and "delete" are always accepted too.
  std::string add_flag = "A";
  std::string delete_flag = "D";

  // csv: the header name of the phone column, compared case-insensitively.
  std::string phone_column = "phone";

  /// A line (csv: a record) longer than this is a bad line. Bounded to [16, 1 MiB].
  std::size_t max_line_bytes = 1024;
  /// Bytes read per read() call. Bounded to [1, 64 MiB]; small values are for tests only.
  std::size_t chunk_bytes = std::size_t{4} << 20;
};

/// Cross-field check of reader_options (columns distinct and in range, flags non-empty...).
boost::system::error_code check_reader_options(const reader_options& o) noexcept;

enum class change_op : std::uint8_t { add, remove };

/// One number read from a file. 16 bytes, trivially copyable.
struct entry {
  model::phone_number number;
  change_op op = change_op::add;
  /// ftc-changes: the day of the change; the epoch (sys_days{}) when there is no date column
  /// and for the other formats.
  std::chrono::sys_days date{};
};

struct bad_line {
  std::uint64_t line_no = 0;  // 1-based physical line where the line (csv: record) starts
  std::string reason;
  std::string text;  // the line as read, truncated to 120 bytes
};

/// Counters of one reader. For ftc, ftc-changes and lines: lines == numbers + blank + bad.
/// For csv the header row is counted in `lines` too: lines == numbers + blank + bad + 1.
struct read_stats {
  std::uint64_t lines = 0, numbers = 0, blank = 0, bad = 0;
  std::vector<bad_line> first_bad;  // the first 20, in order
  std::uint64_t bytes_in = 0;       // bytes consumed from the file (compressed) -> progress
  std::uint64_t file_size = 0;
  static constexpr std::size_t max_kept_bad = 20;
  static constexpr std::size_t max_bad_text = 120;
};

/// Reads one file in batches. Not thread-safe; one reader per thread. Move-only.
class dnc_file_reader {
 public:
  /// Opens a file; gzip is detected by its magic bytes (1f 8b), not by its name. Fails on
  /// bad options (file_errc::bad_options) and open errors (errno codes, e.g.
  /// no_such_file_or_directory); format problems surface from the first next_batch.
  static boost::system::result<dnc_file_reader> open(const std::filesystem::path& p,
                                                     reader_options o);
  /// Reads from memory (tests, fuzzing). Bad options surface from the first next_batch.
  static dnc_file_reader from_memory(std::string data, reader_options o);

  dnc_file_reader(dnc_file_reader&&) noexcept;
  dnc_file_reader& operator=(dnc_file_reader&&) noexcept;
  ~dnc_file_reader();

  /// Fills `out` (cleared first) with up to `max` entries. Returns true while entries may
  /// follow (`out` may hold the last ones), false with `out` empty once the file is done.
  /// I/O errors (and gzip corruption) are errors, and stay errors on later calls; bad lines
  /// are counted in stats(), never errors.
  boost::system::result<bool> next_batch(std::vector<entry>& out, std::size_t max = 65536);

  const read_stats& stats() const noexcept;
  /// A readable description of the last error ("" if none), naming the path, the missing
  /// column and the headers found, or zlib's message.
  const std::string& error_message() const noexcept;

 private:
  struct impl;
  explicit dnc_file_reader(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace stopgate::dnc::lists

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::lists::file_errc> : std::true_type {};
