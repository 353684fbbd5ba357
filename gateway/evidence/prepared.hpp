// A record's own fields serialised ahead of time, so the writer thread only splices in the
// five fields that depend on chain order (id, prev, seq, ts, type). The result is byte for
// byte the canonical form of docs/EVIDENCE.md: the caller's members are sorted and
// serialised once on the appender's thread, and the reserved members go in at precomputed
// offsets (their names sort id < prev < seq < ts < type, and no caller key equals one).
#pragma once

#include "gateway/evidence/record.hpp"

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::evidence {

/// The caller's fields in canonical form, ready to be spliced.
struct prepared_fields {
  /// `"k1":v1,"k2":v2,` — members sorted by key bytes, each followed by a comma.
  std::string text;
  /// For id, prev, seq, ts, type (in that order): the offset in `text` of the first member
  /// whose key sorts after that reserved name (text.size() if none).
  std::array<std::size_t, 5> cut{};
};

/// Serialises `fields` into `out` (reusing its capacity). errc::reserved_field if a key is
/// one of id seq ts type prev hash; errc::unsupported_value for a float or invalid UTF-8
/// anywhere. Thread-safe (no shared state); allocates only when `out` must grow.
boost::system::error_code prepare_fields(const boost::json::object& fields,
                                         prepared_fields& out);

/// The members only the writer knows. All are plain ASCII needing no escapes: `id` is
/// INSTANCE-SEQ (options::check limits INSTANCE to [A-Za-z0-9._-]), `prev` 64 hex digits.
struct record_head {
  std::string_view id;
  std::string_view prev;
  std::uint64_t seq = 0;
  std::string_view ts;  // format_ts text
  record_type type = record_type::status;
};

/// Size of the canonical bytes append_record would write.
std::size_t canonical_size(const prepared_fields& f, const record_head& h) noexcept;

/// Appends the record's canonical bytes (`{...}`, without `hash`): identical to
/// append_canonical of the caller's object with the head's members added.
void append_record(std::string& out, const prepared_fields& f, const record_head& h);

}  // namespace stopgate::evidence
