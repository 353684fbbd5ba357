// Internals of the DNC file readers, shared by dnc_file*.cpp and their tests: the byte input
// (file or memory, plain or gzip) and the per-format line parsers. Not a public API.
#pragma once

#include "dnc/lists/file.hpp"

#include <zlib.h>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace stopgate::dnc::lists::detail {

/// Bytes of one file, decompressed when the first bytes are the gzip magic. Reads the source
/// in chunks of `chunk` bytes. Not movable (zlib's stream points back at itself). Not
/// thread-safe.
class input {
 public:
  input() = default;
  input(const input&) = delete;
  input& operator=(const input&) = delete;
  ~input();

  /// Opens a file; on failure `err` says why, naming the path.
  boost::system::error_code open_file(const std::filesystem::path& p, std::size_t chunk,
                                      std::string& err);
  void open_memory(std::string data, std::size_t chunk);

  /// Copies up to `cap` decoded bytes to `dst`. Returns 0 only at the end of the data.
  boost::system::result<std::size_t> read(char* dst, std::size_t cap, std::string& err);

  /// The path, or "(memory)": the start of every error message.
  const std::string& name() const noexcept { return path_; }
  std::uint64_t bytes_in() const noexcept { return bytes_in_; }
  std::uint64_t file_size() const noexcept { return file_size_; }

 private:
  // Raw bytes from the file or the memory string; 0 at the end.
  boost::system::result<std::size_t> read_raw(char* dst, std::size_t cap, std::string& err);
  // Reads the first bytes to decide between plain, gzip and (refused) zip.
  boost::system::error_code sniff(std::string& err);
  boost::system::result<std::size_t> inflate_some(char* dst, std::size_t cap, std::string& err);

  int fd_ = -1;
  std::string path_;  // for messages
  std::string memory_;
  std::size_t memory_pos_ = 0;
  bool from_memory_ = false;

  std::size_t chunk_ = 0;
  std::unique_ptr<char[]> in_;  // raw bytes not yet handed on (sniffed head, gzip input)
  std::size_t in_pos_ = 0, in_len_ = 0;
  bool raw_eof_ = false;
  bool sniffed_ = false;

  bool gzip_ = false;
  bool z_init_ = false;
  bool z_member_done_ = false;  // the last gzip member ended; more may follow
  z_stream z_{};

  std::uint64_t bytes_in_ = 0;
  std::uint64_t file_size_ = 0;
};

enum class line_kind : std::uint8_t { number, blank, bad };

/// What one line became. A bad line's reason is `why`, followed by `number_error`'s message
/// when that is set. `why` always points at a string literal (no allocation per line).
struct line_result {
  line_kind kind = line_kind::bad;
  entry value{};
  const char* why = "";
  boost::system::error_code number_error{};
};

/// Spaces and tabs around a field are not part of it.
std::string_view trim(std::string_view s) noexcept;
/// ASCII case-insensitive equality (flags, header names).
bool iequals(std::string_view a, std::string_view b) noexcept;

line_result parse_ftc_line(std::string_view line) noexcept;
line_result parse_lines_line(std::string_view line) noexcept;
line_result parse_changes_line(std::string_view line, const reader_options& o) noexcept;
/// csv data row: `column` is the phone column's index; `scratch` is reused for unquoting.
line_result parse_csv_line(std::string_view line, char delimiter, std::size_t column,
                           std::string& scratch);

/// Dates seen in change lists: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, MM/DD/YYYY, optionally
/// followed by a time after ' ' or 'T' (ignored). False if not a real date.
bool parse_change_date(std::string_view s, std::chrono::sys_days& out) noexcept;

enum class csv_field_status : std::uint8_t { ok, end, malformed };

/// Reads the field starting at `pos` of a csv record into `out` (unquoted, RFC 4180) and
/// moves `pos` past its delimiter, or to npos after the last field. `end` when `pos` is
/// already npos.
csv_field_status csv_next_field(std::string_view rec, std::size_t& pos, char delimiter,
                                std::string& out);

}  // namespace stopgate::dnc::lists::detail
