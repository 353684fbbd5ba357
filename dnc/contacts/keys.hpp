// Redis key schema of the contact store (opt-outs, consents, counters) and the keyed
// pseudonym that names a number's keys without revealing it. docs/dev/CONTACTS.md has the table.
//
// Every key of one number shares the hash tag {c:P}, P = 32 hex digits of
// SipHash-2-4-128(k, E.164 digits), so one number lives on one Redis Cluster slot:
//   {c:P}          hash   n -> "+14155552671", o:SENDER -> opt-out JSON, c:ID -> consent JSON,
//                         f -> forget time (only after forget)
//   {c:P}:cd       hash   ID -> consent source details JSON (method, url, ip, user_agent, ...)
//   {c:P}:ev       list   evidence ids of opt-outs, consents and opt-ins, newest first (capped)
//   {c:P}:caps     zset   campaign -> unix µs when its counter expires (index for lookup/forget)
//   {c:P}:cap:CAMP zset   committed contacts, score unix µs, member "US:RANDOM" (TTL)
#pragma once

#include "dnc/contacts/error.hpp"
#include "dnc/model/phone_number.hpp"

#include <boost/system/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace stopgate::dnc::contacts {

/// SipHash-2-4 with a 64-bit tag (Aumasson & Bernstein, 2012). Pure, thread-safe.
std::uint64_t siphash24_64(const std::array<std::uint8_t, 16>& key,
                           std::span<const std::uint8_t> message) noexcept;
/// SipHash-2-4 with a 128-bit tag; bytes in the reference implementation's output order.
std::array<std::uint8_t, 16> siphash24_128(const std::array<std::uint8_t, 16>& key,
                                           std::span<const std::uint8_t> message) noexcept;

namespace contact_keys {

/// The hash tag of a number, "{c:" + 32 hex + "}".
inline constexpr std::size_t tag_size = 36;
using tag_buffer = std::array<char, tag_size>;

/// Longest sender or campaign name accepted in a key or field name.
inline constexpr std::size_t max_name = 64;
/// Sender and campaign names: 1..64 bytes, no control characters or spaces.
bool valid_name(std::string_view name) noexcept;

/// The keyed pseudonym of numbers. Made once from the configured secret; immutable and
/// thread-safe. Every gateway sharing a Redis must use the same secret: another secret
/// names other keys, so rotating it orphans every stored opt-out, consent and counter.
class pseudonymizer {
 public:
  /// At least 16 bytes of secret; the SipHash key is the first 16 bytes of
  /// SHA-256("stopgate contact pseudonym v1" || 0x00 || secret). Fails with
  /// contact_errc::bad_secret when shorter.
  static boost::system::result<pseudonymizer> create(std::string_view secret);

  /// Writes "{c:<32 hex>}" for the number; no allocation.
  void tag(model::phone_number n, tag_buffer& out) const noexcept;
  std::string tag(model::phone_number n) const;

 private:
  explicit pseudonymizer(const std::array<std::uint8_t, 16>& k) noexcept : key_(k) {}
  std::array<std::uint8_t, 16> key_;
};

/// The id of the consent recorded with evidence record `evidence_id`: "cn_" + 16 hex digits
/// of SHA-256("stopgate consent id v1" || 0x00 || evidence id). Derived, not random, so that
/// replaying the evidence log (`stopgatectl contacts rebuild`) writes the same consent again
/// instead of a second copy, and the rebuilt id is the one the API answered.
std::string consent_id_of(std::string_view evidence_id);

/// Where a write of a number announces itself to the caches (docs/dev/CONTACTS.md, "Redis
/// Cluster"): on one Redis the single stream {c:changes} and its counter {c:changes}:n; on a
/// cluster (`per_slot`) the stream of the number's own slot, "{c:sN}:chg" and "{c:sN}:chg:n",
/// where the tag "c:sN" is the first of "c:s0", "c:s1", ... that hashes to that slot: every
/// key a script touches is then in one slot.
struct change_keys {
  std::string stream, counter;
};
change_keys changes_for(std::string_view hash_key, bool per_slot);
/// The tag "c:sN" of a slot (0..16383): a table built once, the same in every process.
std::string_view slot_tag(std::uint16_t slot);
/// "{c:sN}:m", the slot's marker on a cluster: created (SET NX) and read by every caching
/// store before it caches numbers of that slot, never written after, so that a move of the
/// slot (which moves its keys first) reaches the caches as its invalidation
/// (docs/dev/CONTACTS.md, "The cache on a cluster").
std::string slot_marker(std::uint16_t slot);
/// True for a key of that form.
bool is_slot_marker(std::string_view key) noexcept;

/// A number's keys, formatted once into one small inline buffer (no allocation except for
/// counter keys, which carry the campaign).
class number_keys {
 public:
  number_keys(const pseudonymizer& p, model::phone_number n) noexcept { p.tag(n, tag_); }
  std::string_view hash() const noexcept { return {tag_.data(), tag_.size()}; }
  std::string details() const { return std::string(hash()) + ":cd"; }
  std::string evidence() const { return std::string(hash()) + ":ev"; }
  std::string caps() const { return std::string(hash()) + ":caps"; }
  std::string counter(std::string_view campaign) const {
    std::string k(hash());
    k += ":cap:";
    k += campaign;
    return k;
  }

 private:
  tag_buffer tag_{};
};

/// Field names inside the number's hash.
inline constexpr std::string_view number_field = "n";
inline constexpr std::string_view forgotten_field = "f";
inline std::string optout_field(std::string_view sender) {
  return "o:" + std::string(sender);
}
inline std::string consent_field(std::string_view id) {
  return "c:" + std::string(id);
}

}  // namespace contact_keys
}  // namespace stopgate::dnc::contacts
