// The evidence record format: record types, the canonical bytes a record's hash covers,
// timestamps, and the checkpoint MAC. docs/EVIDENCE.md defines the same rules in prose so an
// outside tool can re-check a log; keep the two in step.
#pragma once

#include "gateway/evidence/crypto.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::evidence {

enum class record_type {
  consent,
  optout,
  optin,
  inbound,
  decision,
  send,
  carrier_result,
  status,
  list_load,
  forget,
  checkpoint,  // written by the log itself
  recovered,   // written by the log itself
  retention,   // written by the log itself
  queued,      // a `send` accepted into the durable queue (docs/QUEUE.md)
  released,    // a queued message checked again at release and handed to the relay
  cancelled,   // a queued message that will not be sent (a check at release denied it, ...)
  expired,     // a queued message past its expires_at
};

std::string_view to_string(record_type t) noexcept;
std::optional<record_type> parse_record_type(std::string_view s) noexcept;

using clock_type = std::chrono::system_clock;
using time_point = std::chrono::time_point<clock_type, std::chrono::microseconds>;

/// `prev` of the first record ever written: 64 zeros.
inline constexpr std::string_view genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Every line ends with `,"hash":"<64 hex>"}`; this is its length.
inline constexpr std::size_t hash_suffix_size = 9 + 64 + 2;

/// True for names the log sets itself: id, seq, ts, type, prev, hash.
bool is_reserved_field(std::string_view name) noexcept;

/// Appends the canonical JSON of `v`: object keys sorted by their UTF-8 bytes at every
/// level, no whitespace, strings escaped minimally (\" \\ \b \f \n \r \t, other control
/// characters as \u00xx), integers in decimal. Returns false (leaving `out` partly written)
/// for a floating-point number or a string that is not valid UTF-8.
bool append_canonical(std::string& out, const boost::json::value& v);

/// Appends `s` as a canonical JSON string (the string rules of append_canonical); false
/// (leaving `out` partly written) if `s` is not valid UTF-8.
bool append_json_string(std::string& out, std::string_view s);

/// "2026-11-29T12:34:56.123456Z" (always UTC, always 6 fractional digits).
std::string format_ts(time_point t);
/// Length of format_ts's text.
inline constexpr std::size_t ts_size = 27;
/// format_ts into out[0, ts_size) without allocating. Years 0-9999.
void write_ts(time_point t, char* out) noexcept;
/// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.frac]" followed by "Z" or "+00:00".
std::optional<time_point> parse_ts(std::string_view s) noexcept;

/// Hash of one line (without its newline): SHA-256 over the line with its trailing
/// `,"hash":"…"` removed, i.e. over the canonical bytes of the record without `hash`.
/// Precondition: line.size() > hash_suffix_size.
digest line_hash(sha256& h, std::string_view line);

/// The 64 hex digits at the end of a line, or empty if the line does not end in the
/// `,"hash":"<64 lowercase hex>"}` form.
std::string_view stored_hash(std::string_view line) noexcept;

/// hex(HMAC-SHA256(key, "stopgate-evidence-checkpoint-v1\n" + head_seq + "\n" + head_hash)).
std::string checkpoint_mac(std::string_view key, std::uint64_t head_seq,
                           std::string_view head_hash);
/// A short, non-secret identifier of a key: the first 16 hex digits of
/// HMAC-SHA256(key, "stopgate-evidence-key-id-v1").
std::string key_id(std::string_view key);

}  // namespace stopgate::evidence
