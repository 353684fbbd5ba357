// Verification of the hash chain. chain_checker is the sans-I/O core (one line in, a problem
// or nothing out); verify_directory streams every segment of a directory through it with a
// fixed-size buffer, so memory stays constant whatever the log's size.
#pragma once

#include "gateway/evidence/crypto.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/evidence/segment.hpp"

#include <boost/json/parser.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::evidence {

/// Where a record is and what is wrong with it.
struct problem {
  boost::system::error_code code;  // errc::chain_broken, bad_record, checkpoint_mismatch, ...
  std::string segment;             // file name
  std::uint64_t line = 0;          // 1-based line number in the segment
  std::uint64_t offset = 0;        // byte offset of the line in the segment
  std::optional<std::uint64_t> seq;
  std::string what;

  /// "gw1-20261129-000001.jsonl line 17 (seq 17): hash mismatch: ..."
  std::string describe() const;
};

/// Checks records one after another. Not thread-safe; one per chain.
class chain_checker {
 public:
  /// hmac_key empty: checkpoints are checked for shape and position but not for their HMAC.
  explicit chain_checker(std::string hmac_key = {});

  /// Starts the chain after a known record (used when only a log's tail is walked).
  void start_after(std::uint64_t seq, std::string_view hash);

  /// Checks one line (without '\n'). `instance` is the segment's instance (ids must match).
  std::optional<problem> check(std::string_view line, std::string_view instance,
                               std::string_view segment, std::uint64_t line_no,
                               std::uint64_t offset);
  /// Call after the last line: reports a chain whose start no retention record accounts for.
  std::optional<problem> finish() const;

  std::uint64_t records() const { return records_; }
  std::uint64_t checkpoints() const { return checkpoints_; }
  std::uint64_t checkpoints_checked() const { return checkpoints_checked_; }
  std::uint64_t first_seq() const { return first_seq_; }
  std::uint64_t last_seq() const { return last_seq_; }
  const std::string& last_hash() const { return last_hash_; }
  const std::string& last_ts() const { return last_ts_; }
  /// Records after the newest checkpoint: not covered by any HMAC yet.
  std::uint64_t uncovered() const { return since_checkpoint_; }
  bool anchored_by_retention() const { return anchor_resolved_; }

 private:
  std::string key_;
  sha256 sha_;
  boost::json::parser parser_;
  std::uint64_t records_ = 0, checkpoints_ = 0, checkpoints_checked_ = 0;
  std::uint64_t first_seq_ = 0, last_seq_ = 0, since_checkpoint_ = 0;
  std::string last_hash_, last_ts_;
  bool started_ = false;
  // A chain that starts after seq 1 needs a retention record naming the deleted prefix.
  bool anchor_needed_ = false, anchor_resolved_ = false;
  std::uint64_t anchor_seq_ = 0;
  std::string anchor_hash_;
  std::string anchor_segment_;
};

struct verify_report {
  std::optional<problem> failure;  // the first problem; empty when everything holds
  std::uint64_t segments = 0, records = 0, bytes = 0;
  std::uint64_t checkpoints = 0, checkpoints_checked = 0, uncovered = 0;
  std::uint64_t first_seq = 0, last_seq = 0;
  std::size_t instances = 0;
  bool anchored_by_retention = false;
  double seconds = 0;
};

/// Verifies every segment in `dir` (each instance's chain separately). Stops at the first
/// problem. An unterminated last line is reported as a torn record. Errors are I/O errors
/// (the directory or a segment could not be read) or errc::not_found.
boost::system::result<verify_report> verify_directory(const std::filesystem::path& dir,
                                                      const std::string& hmac_key,
                                                      std::size_t max_line = 4u << 20);

/// Reads a file line by line with one reused buffer, calling on_line(line, offset) for every
/// '\n'-terminated line and on_tail(tail, offset) once for an unterminated rest (if any).
/// Stops early when on_line returns false. Lines longer than max_line are reported to
/// on_line truncated to max_line (the caller's hash check then fails).
boost::system::error_code for_each_line(
    const std::filesystem::path& file, std::size_t max_line,
    const std::function<bool(std::string_view, std::uint64_t)>& on_line,
    const std::function<void(std::string_view, std::uint64_t)>& on_tail);

}  // namespace stopgate::evidence
