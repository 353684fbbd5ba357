// Every DNC list's current generation at one moment: what a check reads its list answers
// from. The lists library (dnc/lists/) builds it from Redis; the policy engine only reads it.
// Plain values, no I/O.
#pragma once

#include "dnc/model/list_generation.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace stopgate::dnc::model {

/// Where each part of a generation lives in Redis; kept beside an in-process generation so
/// a refresh reuses bitmaps whose key did not change (a change list rewrites few).
struct generation_layout {
  std::array<std::string, 1000> npa_keys;  // "" where the area code has no bitmap
  std::string sparse_key;                  // "" when the sparse part is empty
};

struct stored_generation {
  std::shared_ptr<const list_generation> data;
  generation_layout layout;
};

/// An immutable view of all lists at one moment.
struct lists_snapshot {
  std::map<std::string, stored_generation, std::less<>> lists;
  std::chrono::system_clock::time_point refreshed_at{};

  /// The generation of a list, or null when it is not loaded.
  const list_generation* find(std::string_view name) const noexcept {
    auto it = lists.find(name);
    return it == lists.end() ? nullptr : it->second.data.get();
  }
};

}  // namespace stopgate::dnc::model
