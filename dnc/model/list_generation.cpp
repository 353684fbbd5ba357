#include "dnc/model/list_generation.hpp"

#include <algorithm>

namespace stopgate::dnc::model {

void list_generation::contains_many(std::span<const phone_number> numbers,
                                    std::span<bool> out) const noexcept {
  // Independent lookups: the CPU overlaps the cache misses of consecutive numbers.
  for (std::size_t i = 0; i < numbers.size(); ++i) out[i] = contains(numbers[i]);
}

bool list_generation::contains_sparse(std::uint64_t v) const noexcept {
  return std::binary_search(sparse_.begin(), sparse_.end(), v);
}

std::uint64_t list_generation::memory_bytes() const noexcept {
  std::uint64_t n = sparse_.capacity() * sizeof(std::uint64_t);
  for (const auto& b : npa_)
    if (b) n += npa_bitmap::bytes;
  return n;
}

list_builder::list_builder(const list_generation& base) : base_(&base) {
  for (unsigned i = 0; i < 1000; ++i) shared_[i] = base.bitmap(i);
}

npa_bitmap& list_builder::writable(unsigned npa) {
  auto& own = owned_[npa];
  if (!own) {
    // Copy-on-write: a change list copies only the area codes it touches.
    own = shared_[npa] ? std::make_shared<npa_bitmap>(shared_[npa]->clone())
                       : std::make_shared<npa_bitmap>();
    shared_[npa].reset();
  }
  return *own;
}

void list_builder::add(phone_number n) {
  if (n.is_nanp() && (base_ == nullptr || owned_[n.npa()] || shared_[n.npa()])) {
    writable(n.npa()).set(n.local7());
    return;
  }
  if (base_ == nullptr)
    sparse_.push_back(n.value());
  else
    sparse_ops_[n.value()] = true;
}

void list_builder::remove(phone_number n) {
  if (n.is_nanp() && (owned_[n.npa()] || shared_[n.npa()])) {
    writable(n.npa()).clear(n.local7());
    return;
  }
  if (base_ != nullptr) sparse_ops_[n.value()] = false;
}

list_builder::result list_builder::finish() {
  result r;
  if (base_ == nullptr) {
    // Full load: thin area codes are cheaper as set members than as 1.25 MB bitmaps.
    for (unsigned npa = 0; npa < 1000; ++npa) {
      auto& b = owned_[npa];
      if (!b) continue;
      const std::uint64_t c = b->count();
      if (c >= dense_threshold) {
        r.npa[npa] = std::move(b);
        r.npa_changed[npa] = true;
        r.count += c;
      } else {
        b->for_each([&](std::uint32_t local) {
          sparse_.push_back(phone_number::nanp(npa, local).value());
        });
        b.reset();
      }
    }
    std::sort(sparse_.begin(), sparse_.end());
    sparse_.erase(std::unique(sparse_.begin(), sparse_.end()), sparse_.end());
    r.sparse_changed = true;
  } else {
    for (unsigned npa = 0; npa < 1000; ++npa) {
      if (owned_[npa]) {
        r.npa[npa] = std::move(owned_[npa]);
        r.npa_changed[npa] = true;
      } else {
        r.npa[npa] = shared_[npa];
      }
      if (r.npa[npa]) r.count += r.npa[npa]->count();
    }
    sparse_ = base_->sparse();
    if (!sparse_ops_.empty()) {
      std::vector<std::uint64_t> adds;
      for (const auto& [v, present] : sparse_ops_) {
        const bool had = std::binary_search(sparse_.begin(), sparse_.end(), v);
        if (present && !had) adds.push_back(v);
        if (!present && had) sparse_.erase(std::lower_bound(sparse_.begin(), sparse_.end(), v));
        r.sparse_changed |= (present != had);
      }
      std::sort(adds.begin(), adds.end());
      std::vector<std::uint64_t> merged;
      merged.reserve(sparse_.size() + adds.size());
      std::merge(sparse_.begin(), sparse_.end(), adds.begin(), adds.end(),
                 std::back_inserter(merged));
      sparse_ = std::move(merged);
    }
  }
  r.count += sparse_.size();
  r.sparse = std::move(sparse_);
  return r;
}

}  // namespace stopgate::dnc::model
