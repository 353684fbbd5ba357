// One generation of one DNC list, in memory and read-only once built: per-area-code bitmaps
// for the dense part, a sorted vector for the sparse part (small lists, thin area codes and
// non-NANP numbers). The check path asks contains() ~30 ns a lookup; a refresh builds a new
// generation and swaps it in whole (list_mirror), so readers never see a half-loaded list.
#pragma once

#include "dnc/model/npa_bitmap.hpp"
#include "dnc/model/phone_number.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace stopgate::dnc::model {

/// What is known about a generation besides its numbers (stored in its Redis meta hash).
struct list_meta {
  std::string name;  // "federal", "state:TX", ...
  std::uint64_t generation = 0;
  std::uint64_t count = 0;     // distinct numbers
  std::string snapshot;        // YYYY-MM-DD: the date of the data (staleness is judged on it)
  std::int64_t loaded_at = 0;  // unix seconds when the generation became current
  std::string source;          // file names, for status and evidence
};

/// Immutable after construction; thread-safe for any number of concurrent readers.
class list_generation {
 public:
  using bitmap_ptr = std::shared_ptr<const npa_bitmap>;

  list_generation(list_meta meta, std::array<bitmap_ptr, 1000> npa,
                  std::vector<std::uint64_t> sparse)
      : meta_(std::move(meta)), npa_(std::move(npa)), sparse_(std::move(sparse)) {}

  const list_meta& meta() const noexcept { return meta_; }

  bool contains(phone_number n) const noexcept {
    if (n.is_nanp()) {
      if (const npa_bitmap* b = npa_[n.npa()].get()) return b->contains(n.local7());
    }
    return contains_sparse(n.value());
  }
  /// out[i] = contains(numbers[i]); out.size() must be >= numbers.size().
  void contains_many(std::span<const phone_number> numbers, std::span<bool> out) const noexcept;

  /// The bitmap of an area code, or null when it is held sparsely (or absent).
  const bitmap_ptr& bitmap(unsigned npa) const noexcept { return npa_[npa]; }
  const std::vector<std::uint64_t>& sparse() const noexcept { return sparse_; }
  /// Bytes held by this generation (bitmaps + sparse vector), for status and metrics.
  std::uint64_t memory_bytes() const noexcept;

 private:
  bool contains_sparse(std::uint64_t v) const noexcept;

  list_meta meta_;
  std::array<bitmap_ptr, 1000> npa_;
  std::vector<std::uint64_t> sparse_;  // sorted E.164 values
};

/// Accumulates a list's numbers for a load (full replacement) or a change list applied to a
/// current generation, then decides per area code whether it is dense (bitmap) or sparse.
/// Not thread-safe.
class list_builder {
 public:
  /// An area code with at least this many numbers is stored as a bitmap; fewer go into the
  /// sparse set. 20,000 is where a 1.25 MB bitmap becomes smaller than a Redis set
  /// (about 60 bytes a member).
  static constexpr std::uint64_t dense_threshold = 20'000;

  list_builder() = default;
  /// Starts from an existing generation (for change lists): its bitmaps are shared and
  /// copied only when first modified.
  explicit list_builder(const list_generation& base);

  /// Adds a number (a later remove() of the same number in a change list wins, and vice
  /// versa: operations apply in order).
  void add(phone_number n);
  /// Removes a number; only meaningful when building from a base generation.
  void remove(phone_number n);

  struct result {
    std::array<list_generation::bitmap_ptr, 1000> npa;  // dense area codes
    std::array<bool, 1000> npa_changed{};               // differs from the base generation
    std::vector<std::uint64_t> sparse;                  // sorted, distinct
    bool sparse_changed = false;
    std::uint64_t count = 0;
  };
  /// Finishes the build: thin area codes move to the sparse set (full loads only; a change
  /// list keeps the base's layout so unchanged keys can be reused).
  result finish();

 private:
  npa_bitmap& writable(unsigned npa);

  std::array<std::shared_ptr<npa_bitmap>, 1000> owned_;   // bitmaps we may modify
  std::array<list_generation::bitmap_ptr, 1000> shared_;  // from the base, unmodified
  std::vector<std::uint64_t> sparse_;                     // full load: unsorted until finish()
  const list_generation* base_ = nullptr;
  // Change list on the sparse part: number -> present after the last operation.
  std::unordered_map<std::uint64_t, bool> sparse_ops_;
};

}  // namespace stopgate::dnc::model
