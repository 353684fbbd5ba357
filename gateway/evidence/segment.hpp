// Segment files: names (INSTANCE-YYYYMMDD-NNNNNN.jsonl), listing in chain order, and reading
// a segment's first or last line without reading the whole file.
#pragma once

#include "gateway/evidence/record.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::evidence {

struct segment_name {
  std::string instance;
  int yyyymmdd = 0;         // UTC day of the segment's first record
  std::uint64_t number = 0;  // 1, 2, 3, ... per instance, never reused: the chain order

  std::string file_name() const;  // "gw1-20261129-000001.jsonl"
};

/// Parses a file name of the form above; nullopt for anything else (indexes, cut-off tails).
std::optional<segment_name> parse_segment_name(std::string_view file_name);

/// YYYYMMDD of the UTC day containing t.
int utc_yyyymmdd(time_point t);

struct segment_file {
  segment_name name;
  std::filesystem::path path;
};

/// Every segment in `dir`, ordered by (instance, number). With `instance` non-empty only that
/// instance's segments. Errors are the directory's I/O errors.
boost::system::result<std::vector<segment_file>> list_segments(const std::filesystem::path& dir,
                                                               std::string_view instance = {});

/// The first complete line (without '\n'), or nullopt if the file has none.
boost::system::result<std::optional<std::string>> read_first_line(
    const std::filesystem::path& file, std::size_t max_bytes);
/// The last complete ('\n'-terminated) line, or nullopt if the file has none.
boost::system::result<std::optional<std::string>> read_last_line(
    const std::filesystem::path& file, std::size_t max_bytes);

/// fsync of a directory, so that a created, renamed or deleted name is durable.
boost::system::error_code sync_directory(const std::filesystem::path& dir);

}  // namespace stopgate::evidence
