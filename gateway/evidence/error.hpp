// Errors of the evidence log (stopgate::evidence). Expected failures travel as
// boost::system::error_code with this category; I/O failures keep their errno (system category).
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::evidence {

/// Why an evidence operation failed.
enum class errc {
  closed = 1,         // the log was closed (or is closing); nothing was written
  failed,             // an earlier write or fdatasync failed; the log refuses further appends
  unsupported_value,  // a field holds a floating-point number or a string that is not UTF-8
  reserved_field,     // a field uses a name the log sets itself (id, seq, ts, type, prev, hash)
  bad_options,        // options are inconsistent (empty dir/instance, key sizes, zero limits)
  chain_broken,       // a record's hash, seq or prev does not fit the chain (detail says where)
  checkpoint_mismatch,  // a checkpoint HMAC does not match under the given key
  bad_record,         // a line is not a well-formed evidence record
  missing_anchor,     // the chain starts after seq 1 and no retention record accounts for it
  decrypt_failed,     // AES-GCM authentication failed (wrong key or altered ciphertext)
  bad_key,            // a key could not be read or decoded
  not_found,          // the directory holds no segments
  too_large,          // the record's line would exceed options::max_record_bytes
  bad_batch,          // async_append_batch: empty, over max_batch_records, or a bad id_of
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace stopgate::evidence

template <>
struct boost::system::is_error_code_enum<stopgate::evidence::errc> : std::true_type {};
