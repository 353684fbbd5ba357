// A local copy of numbers' opt-outs and consents, kept fresh by the change stream that every
// contact-store write appends to (dnc/contact_scripts.hpp). Sans-I/O: the contact store
// reads the stream (the `poll` script) in the same pipeline as the hashes it misses, and
// hands the answer to apply_poll() before it answers anything from the cache.
//
// Why this is exact, not "eventually fresh": Redis runs one connection's pipeline in order,
// so a poll sent after a check began sees every change acknowledged before it; the entries
// it names are dropped before the check is answered, and a reader that cannot prove it saw
// every change (the stream was trimmed past it, the counter went backwards, Redis was
// replaced) drops the whole cache. docs/dev/CONTACTS.md ("Local cache") has the protocol.
#pragma once

#include "dnc/model/facts.hpp"
#include "redis/reply.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::dnc::contacts {

/// Redis keys of the change stream (one per Redis; see docs/dev/CONTACTS.md about Cluster).
inline constexpr std::string_view change_stream_key = "{c:changes}";
inline constexpr std::string_view change_counter_key = "{c:changes}:n";
/// Set by `stopgatectl contacts rebuild` when it has replayed the evidence log (a value unique
/// to that run): a cache that saw Redis lose data clears its data_lost() flag when it changes.
inline constexpr std::string_view rebuild_marker_key = "{c:changes}:rebuilt";

struct contact_cache_options {
  /// Estimated bytes of cached facts (entries, strings, table) per cache; above it an
  /// arbitrary eighth of the entries is dropped. 0 turns caching off.
  std::size_t max_bytes = 16u << 20;
  /// Facts with more opt-outs plus consents than this are not cached (read every time).
  std::size_t max_facts_per_number = 16;
  /// Stream entries read per poll; a reader further behind drops its whole cache.
  std::size_t max_changes_per_poll = 1024;
  /// Starts in the data_lost() state, cleared by the first rebuild marker: for a gateway that
  /// found Redis without its pseudonym key although its evidence log holds records (Redis
  /// lost everything while no gateway watched it).
  bool start_lost = false;
};

/// The number's 128-bit pseudonym, taken from its hash key "{c:<32 hex>}".
struct cache_key {
  std::uint64_t hi = 0, lo = 0;
  friend bool operator==(const cache_key&, const cache_key&) = default;
  /// Nullopt unless `hash_key` is "{c:" + 32 lowercase hex digits + "}".
  static std::optional<cache_key> from_hash_key(std::string_view hash_key) noexcept;
};

struct cache_key_hash {
  std::size_t operator()(const cache_key& k) const noexcept {
    // The key is already a keyed PRF output: any 64 bits of it are uniform.
    return static_cast<std::size_t>(k.lo ^ (k.hi * 0x9e3779b97f4a7c15ULL));
  }
};

/// Implementation of huge_page_allocator: `bytes` is a multiple of 2 MiB (throws std::bad_alloc).
void* allocate_huge(std::size_t bytes);
void deallocate_huge(void* p, std::size_t bytes) noexcept;

/// Allocates blocks of 2 MiB and more aligned to 2 MiB and asks the kernel to back them with
/// huge pages (one TLB entry per 2 MiB of a large table); smaller ones as std::allocator.
template <class T>
struct huge_page_allocator {
  using value_type = T;
  huge_page_allocator() = default;
  template <class U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}
  static constexpr std::size_t huge = std::size_t(2) << 20;
  static std::size_t rounded(std::size_t n) noexcept {
    return (n * sizeof(T) + huge - 1) / huge * huge;
  }
  T* allocate(std::size_t n) {
    if (n * sizeof(T) < huge) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(allocate_huge(rounded(n)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < huge) return std::allocator<T>{}.deallocate(p, n);
    deallocate_huge(p, rounded(n));
  }
  friend bool operator==(const huge_page_allocator&, const huge_page_allocator&) = default;
};
/// Not thread-safe: owned by one contact store, used on its executor. The table is a flat
/// open-addressing one (linear probing, at most three quarters full): a lookup reads one or
/// two adjacent cache lines instead of chasing list nodes.
class contact_cache {
 public:
  explicit contact_cache(contact_cache_options o = {});

  /// The cached facts (opt-outs and consents; never counters), or null. The pointer stays
  /// valid while erasures() is unchanged (inserts never move entries).
  const model::number_facts* find(const cache_key& k) const noexcept;
  /// Asks the CPU to start loading the slot where find(k) begins: called for every number of
  /// a batch before the finds, the table's cache misses overlap instead of coming one by one.
  void prefetch(const cache_key& k) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(k)]);
  }
  /// Caches facts read by a HGETALL sent after the last applied poll (the caller's duty).
  /// Facts that are unavailable or too many are not kept.
  void insert(const cache_key& k, const model::number_facts& f);
  void clear() noexcept;

  /// True once a poll has fixed the stream position; until then nothing is cached.
  bool positioned() const noexcept { return positioned_; }
  /// The stream id to read after ("" before the first poll).
  std::string_view last_id() const noexcept { return last_id_; }
  /// Applies the poll script's reply: drops every entry the stream names, or everything
  /// when it cannot prove it saw every change since the last poll. Returns false (and
  /// clears everything, position included) when the reply is not a poll reply.
  bool apply_poll(const redis::reply& r);
  /// Forgets everything, position included (after a transport failure: the Redis that
  /// answers next may not be the one whose stream we followed).
  void reset() noexcept;

  // On a Redis Cluster the cache follows the nodes' invalidations (redis::client::
  // enable_tracking) instead of a stream: the store calls these, never apply_poll().
  /// From now on inserts are kept without a poll (the store's own rule decides which).
  void follow_invalidations() noexcept { positioned_ = true; }
  /// Drops `k`, a key a write changed; false when it was not cached.
  bool drop(const cache_key& k) noexcept {
    if (!erase(k)) return false;
    ++invalidations_;
    return true;
  }
  /// Drops everything (tracking was lost or the slot map changed); stays positioned.
  void drop_all() noexcept {
    if (used_ > 0) ++drops_;
    clear();
  }

  std::size_t size() const noexcept { return used_; }
  std::size_t bytes() const noexcept { return bytes_; }
  /// Whole-cache drops (gaps, resets, bad replies) and entries dropped by name: for tests
  /// and metrics.
  std::uint64_t drops() const noexcept { return drops_; }
  /// True from the poll that showed Redis lost changes this cache had seen (the change counter
  /// went backwards, or numbers it had read came back for other changes: a restart without
  /// persistence, FLUSHALL, a failover to a replica that missed writes) until a poll reads a
  /// rebuild marker other than the one there at that moment. Unlike the cache's contents, it
  /// survives reset(): a lost connection is how most such losses look from here.
  bool data_lost() const noexcept { return data_lost_; }
  /// How many polls showed such a loss.
  std::uint64_t data_losses() const noexcept { return data_losses_; }
  std::uint64_t invalidations() const noexcept { return invalidations_; }
  /// Grows whenever an entry may have been removed (invalidation, eviction, drop).
  std::uint64_t erasures() const noexcept { return erasures_; }
  const contact_cache_options& options() const noexcept { return opts_; }

 private:
  // Most numbers have no opt-out or consent: their slot points at one shared empty facts
  // object instead of owning one, so a slot is 24 bytes and more of the table stays in the
  // CPU caches. A free slot points at nothing.
  static const model::number_facts no_facts;
  struct facts_deleter {
    void operator()(const model::number_facts* p) const noexcept {
      if (p != &no_facts) delete p;
    }
  };
  using entry = std::unique_ptr<const model::number_facts, facts_deleter>;
  struct slot {
    cache_key key;
    entry facts;  // null: free
  };
  static bool is_free(const slot& s) noexcept { return !s.facts; }
  static std::size_t cost(const entry& e) noexcept;
  std::size_t home(const cache_key& k) const noexcept {
    return cache_key_hash{}(k) & (slots_.size() - 1);
  }
  /// The slot holding `k`, or slots_.size().
  std::size_t position(const cache_key& k) const noexcept;
  void grow();
  /// Empties slot i and shifts the entries after it back (no tombstones).
  void erase_at(std::size_t i) noexcept;
  /// Removes `k`; false when it was not cached.
  bool erase(const cache_key& k) noexcept;

  contact_cache_options opts_;
  std::vector<slot, huge_page_allocator<slot>> slots_;  // a power of two long, or empty
  std::size_t used_ = 0;
  std::size_t bytes_ = 0;
  bool positioned_ = false;
  std::int64_t last_seq_ = 0;
  std::string last_id_;
  // The highest change counter any poll read (kept across reset()), and the loss state.
  std::int64_t high_water_ = 0;
  bool data_lost_ = false;
  std::string marker_at_loss_;
  std::uint64_t data_losses_ = 0;
  std::uint64_t drops_ = 0, invalidations_ = 0, erasures_ = 0;
};

}  // namespace stopgate::dnc::contacts
