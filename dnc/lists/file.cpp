// The DNC file reader: splits the decoded bytes into lines (csv: records) in one reused
// buffer, hands each to its format's parser, counts outcomes and keeps the first bad lines.
#include "dnc/lists/file.hpp"

#include "dnc/lists/file_detail.hpp"

#include "dnc/lists/file_detail.hpp"

#include <algorithm>
#include <cstring>

namespace stopgate::dnc::lists {
namespace {

class file_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.dnc_file"; }
  std::string message(int ev) const override {
    switch (static_cast<file_errc>(ev)) {
      case file_errc::unknown_format:
        return "unknown file format (ftc, ftc-changes, csv, lines)";
      case file_errc::bad_options:
        return "invalid reader options";
      case file_errc::zip_archive:
        return "file is a zip archive; unzip it first";
      case file_errc::gzip_corrupt:
        return "gzip data is corrupt";
      case file_errc::gzip_truncated:
        return "gzip data is truncated";
      case file_errc::csv_no_header:
        return "csv file has no header row";
      case file_errc::csv_missing_column:
        return "csv header has no such column";
    }
    return "unknown dnc file error";
  }
};

constexpr std::size_t max_column = 63;

}  // namespace

const boost::system::error_category& file_category() noexcept {
  static const file_category_impl cat;
  return cat;
}

boost::system::result<file_format> parse_file_format(std::string_view text) noexcept {
  if (text == "ftc") return file_format::ftc;
  if (text == "ftc-changes") return file_format::ftc_changes;
  if (text == "csv") return file_format::csv;
  if (text == "lines") return file_format::lines;
  return make_error_code(file_errc::unknown_format);
}

std::string_view to_string(file_format f) noexcept {
  switch (f) {
    case file_format::ftc:
      return "ftc";
    case file_format::ftc_changes:
      return "ftc-changes";
    case file_format::csv:
      return "csv";
    case file_format::lines:
      return "lines";
  }
  return "?";
}

boost::system::error_code check_reader_options(const reader_options& o) noexcept {
  const auto bad = make_error_code(file_errc::bad_options);
  if (o.max_line_bytes < 16 || o.max_line_bytes > (std::size_t{1} << 20)) return bad;
  if (o.chunk_bytes < 1 || o.chunk_bytes > (std::size_t{64} << 20)) return bad;
  if (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r') return bad;
  if (o.format == file_format::csv && detail::trim(o.phone_column).empty()) return bad;
  if (o.format != file_format::ftc_changes) return {};
  auto in_range = [](int c) { return c >= 0 && std::size_t(c) <= max_column; };
  if (!in_range(o.number_column) || !in_range(o.flag_column)) return bad;
  if (o.local_column != -1 && !in_range(o.local_column)) return bad;
  if (o.date_column != -1 && !in_range(o.date_column)) return bad;
  const int cols[] = {o.number_column, o.local_column, o.date_column, o.flag_column};
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j)
      if (cols[i] >= 0 && cols[i] == cols[j]) return bad;
  // A flag must not mean both add and delete.
  if (o.add_flag.empty() || o.delete_flag.empty() || detail::iequals(o.add_flag, o.delete_flag) ||
      detail::iequals(o.add_flag, "delete") || detail::iequals(o.delete_flag, "add"))
    return bad;
  return {};
}

}  // namespace stopgate::dnc::lists
