// Time-zone rules for the zone ids of dnc/nanp_tables.hpp, from the OS tz database.
//
// zone_rules resolves every zone id to a `const date::time_zone*` once, at start-up (Howard
// Hinnant's date/tz reading /usr/share/zoneinfo). After that it is immutable and the
// conversions below are pure functions of (zone, instant) or (zone, local date and time):
// thread-safe, allocation-free, no I/O.
#pragma once

#include "dnc/model/nanp_tables.hpp"

#include <date/tz.h>
#include <boost/system/result.hpp>

#include <array>
#include <chrono>

namespace stopgate::dnc::model {

/// Why the zone rules could not be loaded (a start-up failure, not a per-request one).
enum class tz_errc {
  tzdata_unavailable = 1,  // the OS tz database could not be read
  unknown_zone,            // a zone of the NANP tables is missing from the tz database
};

const boost::system::error_category& tz_category() noexcept;
inline boost::system::error_code make_error_code(tz_errc e) noexcept {
  return {static_cast<int>(e), tz_category()};
}

/// The zones of the NANP tables, resolved. Immutable after load(); share one instance by
/// const reference between threads.
class zone_rules {
 public:
  /// Reads the tz database (date::get_tzdb(); the first call parses it), resolves every zone
  /// id and loads each zone's rules, so that later conversions do no I/O. Fails with
  /// unknown_zone (the missing name is logged) or tzdata_unavailable. Call once at start-up;
  /// blocking file I/O.
  static boost::system::result<zone_rules> load() noexcept;

  /// The zone for an id; nullptr for an id outside the table.
  const date::time_zone* zone(zone_id id) const noexcept {
    return id < zone_count() ? zones_[id] : nullptr;
  }

 private:
  zone_rules() = default;
  std::array<const date::time_zone*, 256> zones_{};
};

/// A wall-clock reading in some zone: the local date and the seconds since local midnight.
struct local_reading {
  date::local_days day;
  std::chrono::seconds time_of_day;

  date::weekday weekday() const noexcept { return date::weekday(day); }
  date::local_seconds local() const noexcept { return day + time_of_day; }
};

/// What the wall clock in `zone` shows at instant `t` (DST applied). Pure, thread-safe.
local_reading local_time_at(const date::time_zone& zone, std::chrono::sys_seconds t) noexcept;

/// The instant at which the wall clock in `zone` first reaches `time_of_day` on local date
/// `day` (time_of_day may be 24h, meaning the next midnight).
/// - In a DST gap (a wall time that never occurs, e.g. 02:30 on a spring-forward day) that
///   is the end of the gap: the transition instant, when the clock jumps past it.
/// - In a DST overlap (a wall time that occurs twice, e.g. 01:30 on a fall-back day) that is
///   the earlier occurrence.
/// So later wall times never map to earlier instants, and a window opening or closing at a
/// wall time inside a gap opens or closes when the clock jumps. Pure, thread-safe.
std::chrono::sys_seconds instant_of(const date::time_zone& zone, date::local_days day,
                                    std::chrono::seconds time_of_day) noexcept;

}  // namespace stopgate::dnc::model

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::model::tz_errc> : std::true_type {};
