// Settings of one evidence log. Plain struct with defaults in the class; check() validates the
// whole set once. The TOML [evidence] table (config/) fills one of these.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace stopgate::evidence {

struct options {
  std::filesystem::path dir = "var/evidence";  // segments, cut-off tails and indexes live here
  std::string instance = "gw1";  // [A-Za-z0-9._-]{1,64}; record ids are INSTANCE-SEQ
  std::string hmac_key;          // raw key bytes for checkpoint HMACs (empty: no HMAC, see docs)
  std::uint64_t checkpoint_every = 1000;             // records between checkpoints
  std::chrono::seconds checkpoint_interval{60};      // or this long since the last one
  std::uint64_t segment_max_bytes = 64ull << 20;     // roll to a new segment beyond this size
  unsigned retention_days = 1826;                    // 5 years (apply_retention)
  std::string encryption_key;      // empty: off; else exactly 32 bytes for AES-256-GCM
  std::size_t max_batch = 4096;    // records per write + fdatasync
  std::size_t max_queue = 65536;   // queued records; further appenders wait (backpressure)
  std::size_t max_record_bytes = 1u << 20;  // a record's line may not be longer than this

  /// errc::bad_options with a human-readable reason in *why (if given) when inconsistent.
  boost::system::error_code check(std::string* why = nullptr) const;
};

}  // namespace stopgate::evidence
