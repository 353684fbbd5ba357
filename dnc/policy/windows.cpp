// Calendar rules of the policy engine: calling windows and restricted days in every candidate
// zone of a number, and the search for the first instant at which all of them are open.
#include "dnc/model/time_zones.hpp"
#include "dnc/policy/engine.hpp"

#include <algorithm>

namespace stopgate::dnc::policy {
namespace {

using std::chrono::floor;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr config::time_window k_whole_day{config::minute_of_day{0}, config::minute_of_day{1440}};

/// The intersection of two windows of one day; nullopt when it is empty or either is.
std::optional<config::time_window> intersect(const std::optional<config::time_window>& a,
                                             const std::optional<config::time_window>& b) {
  if (!a || !b) return std::nullopt;
  config::time_window w{std::max(a->start, b->start), std::min(a->end, b->end)};
  if (!(w.start < w.end)) return std::nullopt;
  return w;
}

seconds at_minute(config::minute_of_day m) {
  return minutes(m.minutes);
}

}  // namespace

policy_engine::zones policy_engine::zones_for(model::phone_number n) const noexcept {
  zones out;
  for (model::zone_id id : model::zones_of(n)) {
    if (const date::time_zone* z = zone_by_id_[id]; z && out.count < max_zones)
      out.tz[out.count++] = z;
  }
  return out.count == 0 ? fallback_ : out;
}

std::optional<std::size_t> policy_engine::region_index(std::string_view code) noexcept {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
    return std::nullopt;
  return std::size_t(code[0] - 'A') * 26 + std::size_t(code[1] - 'A');
}

const policy_engine::region_rules* policy_engine::rules_for(std::string_view code) const noexcept {
  const auto i = region_index(code);
  return i ? &regions_[*i] : nullptr;
}

bool policy_engine::holiday(date::local_days d, std::optional<std::size_t> region) const noexcept {
  if (!region || holidays_.empty()) return false;
  const std::int64_t key =
      std::int64_t(d.time_since_epoch().count()) * 65536 + std::int64_t(*region);
  return std::binary_search(holidays_.begin(), holidays_.end(), key);
}

policy_engine::local_rules policy_engine::local_rules_for(
    model::phone_number n, const model::nanp_region& region,
    const config::purpose_policy& pp) const noexcept {
  local_rules lr;
  // Only Canadian numbers take the Canadian window; US, other NANP countries, non-geographic
  // and non-NANP numbers take the federal one (docs/POLICY.md).
  lr.base = region.country == model::nanp_country::ca ? &settings_->policy.canada
                                                      : &settings_->policy.federal;
  lr.region = region_index(region.code_view());
  if (lr.region) {
    lr.region_window = regions_[*lr.region].window;
    lr.sunday_ban = regions_[*lr.region].sunday_ban;
  }
  lr.apply_window = pp.apply_calling_window;
  lr.apply_restricted = pp.apply_restricted_days;
  if (lr.apply_window || lr.apply_restricted) lr.candidates = zones_for(n);
  return lr;
}

policy_engine::day_state policy_engine::day(const local_rules& lr,
                                            date::local_days d) const noexcept {
  day_state ds;
  const date::weekday wd(d);
  if (lr.apply_restricted)
    ds.restricted = (lr.sunday_ban && wd == date::Sunday) || holiday(d, lr.region);
  if (!lr.apply_window) {
    ds.window = k_whole_day;
  } else {
    const auto& base = lr.base->on(wd);
    ds.window = lr.region_window ? intersect(base, lr.region_window->on(wd)) : base;
  }
  return ds;
}

void policy_engine::judge_calendar(const local_rules& lr, model::sys_time t, bool& quiet,
                                   bool& restricted) const {
  const auto ts = floor<seconds>(t);
  for (std::size_t i = 0; i < lr.candidates.count; ++i) {
    const model::local_reading local = model::local_time_at(*lr.candidates.tz[i], ts);
    const day_state ds = day(lr, local.day);
    if (ds.restricted) restricted = true;
    if (lr.apply_window && (!ds.window || local.time_of_day < at_minute(ds.window->start) ||
                            local.time_of_day >= at_minute(ds.window->end)))
      quiet = true;
  }
}

std::optional<model::sys_time> policy_engine::next_open_in(const local_rules& lr,
                                                           const date::time_zone& z,
                                                           model::sys_time t,
                                                           model::sys_time limit) const noexcept {
  const auto ts = floor<seconds>(t);
  const model::local_reading now = model::local_time_at(z, ts);
  // Two days more than the horizon: the zone's local date may lag the UTC date.
  const int max_days = int(retry_horizon / std::chrono::hours(24)) + 2;
  for (int k = 0; k <= max_days; ++k) {
    const date::local_days d = now.day + date::days(k);
    const day_state ds = day(lr, d);
    if (ds.restricted || !ds.window) continue;
    const seconds open = at_minute(ds.window->start);
    if (k == 0) {
      if (now.time_of_day >= at_minute(ds.window->end)) continue;
      if (now.time_of_day >= open) return t;
      model::sys_time c = model::instant_of(z, d, open);
      // In a fall-back overlap the earlier pass of the wall time may already be behind us:
      // the wall clock reaches it again after the difference in wall time.
      if (c <= ts) c = ts + (open - now.time_of_day);
      return c;
    }
    const model::sys_time c = model::instant_of(z, d, open);
    if (c > limit) return std::nullopt;
    return std::max(c, t);
  }
  return std::nullopt;
}

std::optional<model::sys_time> policy_engine::first_open(const local_rules& lr,
                                                         model::sys_time from,
                                                         model::sys_time limit) const noexcept {
  if ((!lr.apply_window && !lr.apply_restricted) || lr.candidates.count == 0) return from;
  model::sys_time t = from;
  // Each round moves t to the latest "next opening" among the zones; it stops when every zone
  // is open at t. Every move lands on a window opening, so a few rounds suffice.
  for (int round = 0; round < 64; ++round) {
    model::sys_time next = t;
    for (std::size_t i = 0; i < lr.candidates.count; ++i) {
      const auto n = next_open_in(lr, *lr.candidates.tz[i], t, limit);
      if (!n) return std::nullopt;
      next = std::max(next, *n);
    }
    if (next == t) return t;
    if (next > limit) return std::nullopt;
    t = next;
  }
  return std::nullopt;
}

}  // namespace stopgate::dnc::policy
