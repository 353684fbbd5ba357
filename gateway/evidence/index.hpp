// The number index and `evidence export`. Each segment gets a small text index beside it
// (SEGMENT.jsonl.idx): which numbers its records name (top-level fields `to`, `from`,
// `number`) at which byte offsets, plus the segment's size, last hash and time span. An index
// is rebuilt from its segment whenever it is missing or stale (size or last hash differ), so
// the gateway never writes it and the log stays the only source of truth.
#pragma once

#include "gateway/evidence/crypto.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/evidence/segment.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stopgate::evidence {

/// The E.164 numbers a record names in its top-level `to`, `from` and `number` fields
/// (values normalised with dnc::model::parse_phone; values that are not numbers are ignored).
std::vector<std::string> record_numbers(const boost::json::object& record);

struct segment_index {
  std::uint64_t segment_bytes = 0;  // bytes of complete lines covered
  std::string last_hash;            // hash of the last record covered ("" if none)
  std::string first_ts, last_ts;    // "" if no records
  std::vector<std::pair<std::string, std::uint64_t>> entries;  // (e164, offset), sorted
};

/// The segment's index: read from SEGMENT.idx when it is current, otherwise rebuilt from the
/// segment (and written back atomically when `write_back`; a failed write is not an error).
/// *rebuilt tells which happened.
boost::system::result<segment_index> load_index(const segment_file& seg, std::size_t max_line,
                                                bool write_back, bool* rebuilt = nullptr);

struct export_query {
  std::string number;                // E.164, "+14155552671"; "" with message_id: any number
  std::optional<time_point> from;    // inclusive
  std::optional<time_point> until;   // exclusive
  aes_gcm* decrypt = nullptr;        // set: sealed fields are replaced by their plaintext
  /// Only records whose top-level `message_id` is this (a message's whole life: queued,
  /// decision, released, send, carrier_result, status, cancelled, expired). Without `number`
  /// every segment in the range is read through (the index is by number).
  std::string message_id;
};

struct export_report {
  std::uint64_t records = 0, segments_scanned = 0, indexes_rebuilt = 0;
};

/// Calls out(line) for every record in `dir` naming query.number (and query.message_id) within the time range, in
/// chain order (instance by instance). Lines are the records as stored, or re-serialised
/// with plaintext fields when decrypting. errc::decrypt_failed if a field does not decrypt.
boost::system::result<export_report> export_records(
    const std::filesystem::path& dir, const export_query& query,
    const std::function<void(std::string_view)>& out, std::size_t max_line = 4u << 20);

/// Rebuilds every segment's index; returns how many segments were indexed.
boost::system::result<std::uint64_t> reindex(const std::filesystem::path& dir,
                                             std::size_t max_line = 4u << 20);

}  // namespace stopgate::evidence
