#include "dnc/model/nanp_tables.hpp"

#include <algorithm>

namespace stopgate::dnc::model {
namespace {

// The (region, zone-set) indexes for a number: the area code's row, or the run of its split
// slice that holds the exchange. Index 0 of both tables means "nothing known".
struct answer {
  std::uint8_t region = 0;
  std::uint8_t zones = 0;
};

answer lookup(phone_number n) noexcept {
  if (!n.is_nanp()) return {};
  const unsigned npa = n.npa();
  if (npa < detail::first_npa) return {};
  const detail::npa_row& row = detail::npa_rows[npa - detail::first_npa];
  if (row.split_begin == row.split_end) return {row.region, row.zones};
  const detail::split_row* begin = detail::split_rows + row.split_begin;
  const detail::split_row* end = detail::split_rows + row.split_end;
  const unsigned nxx = n.nxx();
  // The last run starting at or before nxx; every slice starts at exchange 0, so it exists.
  const detail::split_row* it = std::upper_bound(
      begin, end, nxx, [](unsigned v, const detail::split_row& r) { return v < r.first_nxx; });
  --it;
  return {it->region, it->zones};
}

}  // namespace

nanp_region region_of(phone_number n) noexcept {
  return detail::regions[lookup(n).region];
}

zone_set zones_of(phone_number n) noexcept {
  return detail::zone_sets[lookup(n).zones];
}

std::string_view zone_name(zone_id id) noexcept {
  return id < detail::zone_name_count ? detail::zone_names[id] : std::string_view();
}

std::optional<zone_id> find_zone(std::string_view name) noexcept {
  // The names are generated in sorted order.
  const std::string_view* begin = detail::zone_names;
  const std::string_view* end = detail::zone_names + detail::zone_name_count;
  const std::string_view* it = std::lower_bound(begin, end, name);
  if (it == end || *it != name) return std::nullopt;
  return zone_id(it - begin);
}

std::size_t zone_count() noexcept {
  return detail::zone_name_count;
}

}  // namespace stopgate::dnc::model
