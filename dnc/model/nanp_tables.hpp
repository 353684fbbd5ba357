// Region (state/province, country) and candidate time zones of +1 (NANP) numbers.
//
// The answers come from tables generated from libphonenumber's geocoding and time-zone data
// (dnc/nanp_tables_data.cpp, written by tools/gen-nanp-tables; docs/NUMBERS.md). Lookups
// index a fixed table by area code and, for the few area codes the data splits, binary-search
// that area code's runs of exchanges: no allocation, no locks, a few nanoseconds. All tables are
// constant-initialised, so lookups are safe from any thread at any time, even during static
// initialisation of other translation units.
#pragma once

#include "dnc/model/phone_number.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace stopgate::dnc::model {

/// Which rules apply to a NANP number: US (states, DC and the US territories PR, VI, GU, MP,
/// AS), Canada, another NANP country (Caribbean and Atlantic members), or unknown
/// (non-geographic codes such as 800 or 900, unassigned area codes, non-NANP numbers).
enum class nanp_country : std::uint8_t { unknown, us, ca, other };

/// Where a NANP number's area code (or exchange, where the data says so) is. Value type.
struct nanp_region {
  /// US state, "DC", US territory or Canadian province/territory ("NY", "PR", "ON"); empty
  /// ({0, 0}) for other countries and when the data names no single one (902 without an
  /// exchange entry is Nova Scotia or Prince Edward Island).
  std::array<char, 2> code{};
  nanp_country country = nanp_country::unknown;
  /// ISO 3166-1 alpha-2 of the country or territory: "US", "CA", "PR", "BS", "JM".
  std::array<char, 2> iso{};

  constexpr bool known() const noexcept { return country != nanp_country::unknown; }
  constexpr bool has_code() const noexcept { return code[0] != 0; }
  constexpr std::string_view code_view() const noexcept {
    return has_code() ? std::string_view(code.data(), 2) : std::string_view();
  }
  constexpr std::string_view iso_view() const noexcept {
    return iso[0] != 0 ? std::string_view(iso.data(), 2) : std::string_view();
  }
  friend constexpr bool operator==(const nanp_region&, const nanp_region&) = default;
};

/// Index into the zone-name table (zone_name()); stable for one generated table only, so do
/// not persist ids: persist zone names.
using zone_id = std::uint8_t;

/// The candidate IANA zones of one number, sorted by id, at most max_size. Value type.
class zone_set {
 public:
  static constexpr std::size_t max_size = 4;

  constexpr zone_set() noexcept = default;
  constexpr zone_set(std::array<zone_id, max_size> ids, std::uint8_t count) noexcept
      : ids_(ids), count_(count) {}

  /// The ids, viewing this object: `for (zone_id id : zones_of(n))` iterates safely, while
  /// `zones_of(n).ids()` would dangle and does not compile.
  constexpr std::span<const zone_id> ids() const& noexcept { return {ids_.data(), count_}; }
  std::span<const zone_id> ids() const&& = delete;
  constexpr const zone_id* begin() const noexcept { return ids_.data(); }
  constexpr const zone_id* end() const noexcept { return ids_.data() + count_; }
  constexpr std::size_t size() const noexcept { return count_; }
  constexpr bool empty() const noexcept { return count_ == 0; }
  constexpr bool contains(zone_id id) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if (ids_[i] == id) return true;
    return false;
  }

 private:
  std::array<zone_id, max_size> ids_{};
  std::uint8_t count_ = 0;
};

/// Region of a NANP number, refined by exchange where the data places an exchange in another
/// state or province than its area code. Unknown for non-NANP and non-geographic numbers.
/// Thread-safe, allocation-free.
nanp_region region_of(phone_number n) noexcept;

/// Candidate zones of a NANP number: the longest prefix of NPA + up to 3 exchange digits that
/// the data lists. Empty for non-NANP, non-geographic (800, 500, 900, ...) and unassigned area
/// codes; the caller decides the fallback. Thread-safe, allocation-free.
zone_set zones_of(phone_number n) noexcept;

/// "America/Chicago" for an id; empty for an id outside the table. Thread-safe.
std::string_view zone_name(zone_id id) noexcept;

/// The id of an IANA zone name the tables use, if any. Thread-safe.
std::optional<zone_id> find_zone(std::string_view name) noexcept;

/// Number of zone ids (ids are 0 .. zone_count() - 1).
std::size_t zone_count() noexcept;

namespace detail {
// Layout of the generated tables (dnc/nanp_tables_data.cpp); only nanp_tables.cpp reads them.

inline constexpr unsigned first_npa = 200;
inline constexpr unsigned npa_count = 800;

/// One area code: its own answer, or a slice [split_begin, split_end) of split_rows when the
/// data splits it by exchange.
struct npa_row {
  std::uint16_t split_begin;
  std::uint16_t split_end;
  std::uint8_t region;  // index into regions; 0 = unknown
  std::uint8_t zones;   // index into zone_sets; 0 = empty
};

/// Exchanges first_nxx .. (next row's first_nxx - 1) share one answer. Each slice starts at 0.
struct split_row {
  std::uint16_t first_nxx;
  std::uint8_t region;
  std::uint8_t zones;
};

extern const npa_row npa_rows[npa_count];
extern const split_row split_rows[];
extern const nanp_region regions[];
extern const zone_set zone_sets[];
extern const std::string_view zone_names[];
extern const std::size_t zone_name_count;

}  // namespace detail
}  // namespace stopgate::dnc::model
