#include "dnc/model/time_zones.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace stopgate::dnc::model {
namespace {

class tz_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.tz"; }
  std::string message(int ev) const override {
    switch (static_cast<tz_errc>(ev)) {
      case tz_errc::tzdata_unavailable:
        return "the system time-zone database cannot be read";
      case tz_errc::unknown_zone:
        return "a time zone of the NANP tables is not in the database";
    }
    return "unknown time-zone error";
  }
};

}  // namespace

const boost::system::error_category& tz_category() noexcept {
  static const tz_category_impl cat;
  return cat;
}

boost::system::result<zone_rules> zone_rules::load() noexcept {
  try {
    // date/tz reads the zone list here; a missing /usr/share/zoneinfo throws.
    (void)date::get_tzdb();
  } catch (const std::exception& e) {
    spdlog::error("time zones: {}", e.what());
    return make_error_code(tz_errc::tzdata_unavailable);
  }
  zone_rules rules;
  for (std::size_t id = 0; id < zone_count(); ++id) {
    const std::string_view name = zone_name(zone_id(id));
    try {
      const date::time_zone* z = date::locate_zone(name);
      // date parses each zone's file on first use; do it now so lookups never do I/O.
      (void)z->get_info(std::chrono::sys_seconds{});
      rules.zones_[id] = z;
    } catch (const std::exception& e) {
      spdlog::error("time zones: {}: {}", name, e.what());
      return make_error_code(tz_errc::unknown_zone);
    }
  }
  return rules;
}

local_reading local_time_at(const date::time_zone& zone, std::chrono::sys_seconds t) noexcept {
  const date::local_seconds local = zone.to_local(t);
  const date::local_days day = date::floor<date::days>(local);
  return {day, local - day};
}

std::chrono::sys_seconds instant_of(const date::time_zone& zone, date::local_days day,
                                    std::chrono::seconds time_of_day) noexcept {
  const date::local_seconds wall = day + time_of_day;
  const date::local_info info = zone.get_info(wall);
  switch (info.result) {
    case date::local_info::nonexistent:
      // The clock jumps over this wall time; it is first passed at the transition.
      return info.second.begin;
    case date::local_info::ambiguous:
    case date::local_info::unique:
      // first is the earlier of two offsets in an overlap, the only one otherwise.
      break;
  }
  return std::chrono::sys_seconds{wall.time_since_epoch() - info.first.offset};
}

}  // namespace stopgate::dnc::model
