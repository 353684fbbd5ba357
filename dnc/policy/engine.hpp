// The policy engine (SPEC section 5): a pure function from (number, request, instant, what the
// store said, the lists snapshot, config) to a decision that carries every reason found.
//
// policy_engine::make() prepares one settings object once (resolves time zones, indexes
// regions, lists, holidays and caps); evaluate() then does no I/O, takes no locks and
// allocates only the decision it returns. docs/POLICY.md describes every rule, the order of
// evaluation and how retry_at is computed.
#pragma once

#include "config/settings.hpp"
#include "dnc/model/facts.hpp"
#include "dnc/model/lists_snapshot.hpp"
#include "dnc/model/nanp_tables.hpp"
#include "dnc/model/phone_number.hpp"

#include <date/tz.h>
#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::dnc::policy {

enum class channel : std::uint8_t { sms, voice };
enum class voice_tech : std::uint8_t { manual, atds, prerecorded };
enum class decision : std::uint8_t { allow, deny, defer };

/// "allow", "deny", "defer".
std::string_view to_string(decision d) noexcept;

/// One number's check. Views (sender, campaign) must outlive the evaluate() call only.
struct check_request {
  model::phone_number to;
  std::string_view sender;
  channel ch = channel::sms;
  config::purpose purpose = config::purpose::marketing;
  voice_tech tech = voice_tech::atds;  // voice only
  std::string_view campaign;           // the store keys frequency counters by it
  model::sys_time at{};                // the instant to evaluate (injected; "now" by default)
};

/// A list the decision looked at, for the decision record (SPEC section 8).
struct list_consulted {
  std::string name;
  std::uint64_t generation = 0;  // 0: not loaded
  std::string snapshot;          // "YYYY-MM-DD"; "" when not loaded
  bool listed = false;
  friend bool operator==(const list_consulted&, const list_consulted&) = default;
};

struct policy_decision {
  decision outcome = decision::allow;
  /// SPEC reason codes in evaluation order (docs/POLICY.md): "optout", "state_dnc:TX", ...
  std::vector<std::string> reasons;
  /// Defer only: the first instant at which every deferring rule clears at once. Absent when
  /// the calendar never opens within 8 days of the cap clearing (or of `at`), e.g. a region
  /// whose windows are all "none".
  std::optional<model::sys_time> retry_at;
  /// The consent relied on (the consent rule's, else a registry exemption's).
  std::optional<std::string> consent_id;
  /// Every list evaluated (covers the number and blocks the purpose), in evaluation order.
  std::vector<list_consulted> lists;
  std::string policy_version;

  bool has(std::string_view reason) const noexcept;
};

/// Why make() failed (start-up or reload, never per request).
enum class policy_errc {
  tzdata_unavailable = 1,   // the OS tz database or a zone of the NANP tables is missing
  unknown_fallback_zone,    // policy.unknown_zone_fallback names a zone the tz database lacks
  too_many_fallback_zones,  // more than max_zones fallback zones
  no_settings,              // a null settings pointer
};

const boost::system::error_category& policy_category() noexcept;
inline boost::system::error_code make_error_code(policy_errc e) noexcept {
  return {static_cast<int>(e), policy_category()};
}

/// True when a list generation's snapshot date is more than max_age_days before the UTC date
/// of `at` (an unreadable date counts as stale); max_age_days 0 = never stale. A required
/// registry that is too old makes marketing checks answer dnc_data_stale. Pure.
bool list_too_old(const model::list_meta& m, std::uint32_t max_age_days, model::sys_time at);

/// Prepared once per settings object; immutable afterwards, so one instance may be shared by
/// const reference between any number of threads. Cheap to move; copying shares the settings.
class policy_engine {
 public:
  /// At most this many candidate zones per number (NANP data has at most 4).
  static constexpr std::size_t max_zones = 8;
  /// How far ahead retry_at is searched.
  static constexpr std::chrono::hours retry_horizon{24 * 8};

  /// Resolves zones (reads the OS tz database on first use: blocking I/O) and indexes the
  /// tables of `s`. Fails when tz data or a fallback zone is missing.
  static boost::system::result<policy_engine> make(std::shared_ptr<const config::settings> s);

  /// The decision for one number. Pure: no I/O, no locks; allocates only the result.
  /// Thread-safe. `lists` is the snapshot to judge registries by (its generations are
  /// recorded in the result).
  policy_decision evaluate(const check_request& r, const model::number_facts& f,
                           const model::lists_snapshot& lists) const;

  /// The frequency cap that applies to a number for a purpose (max, window), so that the
  /// store fetches only the contacts needed; nullptr when none applies. With several caps
  /// naming the number's region, the first in config order applies. The pointer stays valid
  /// as long as this engine (it points into its settings). Thread-safe, allocation-free.
  const config::frequency_cap* cap_for(model::phone_number n, config::purpose p) const noexcept;

  const config::settings& settings() const noexcept { return *settings_; }

 private:
  struct zones {
    std::array<const date::time_zone*, max_zones> tz{};
    std::size_t count = 0;
  };
  /// Per two-letter region code (index (c0-'A')*26 + (c1-'A')).
  struct region_rules {
    const config::week_windows* window = nullptr;  // the region's own window, if configured
    bool sunday_ban = false;
    std::int16_t cap = -1;  // index into policy.frequency_caps
  };
  /// What the calendar rules (windows, restricted days) need about one number.
  struct local_rules {
    zones candidates;
    const config::week_windows* base = nullptr;           // federal or canada
    const config::week_windows* region_window = nullptr;  // the region's own, may be null
    std::optional<std::size_t> region;                    // region index; none for no region code
    bool sunday_ban = false;
    bool apply_window = true;
    bool apply_restricted = true;
  };
  /// One local day in one zone: whether it is restricted, and its window (if any).
  struct day_state {
    bool restricted = false;
    std::optional<config::time_window> window;  // nullopt: no contact that day
  };

  policy_engine() = default;

  zones zones_for(model::phone_number n) const noexcept;
  /// (c0-'A')*26 + (c1-'A') for a two-letter upper-case code.
  static std::optional<std::size_t> region_index(std::string_view code) noexcept;
  const region_rules* rules_for(std::string_view code) const noexcept;
  bool holiday(date::local_days d, std::optional<std::size_t> region) const noexcept;
  local_rules local_rules_for(model::phone_number n, const model::nanp_region& region,
                              const config::purpose_policy& pp) const noexcept;
  const config::frequency_cap* cap_in(const model::nanp_region& region,
                                      const config::purpose_policy& pp) const noexcept;
  day_state day(const local_rules& lr, date::local_days d) const noexcept;
  /// Whether `t` is outside the window / on a restricted day in any candidate zone.
  void judge_calendar(const local_rules& lr, model::sys_time t, bool& quiet,
                      bool& restricted) const;
  /// The first instant >= from at which every candidate zone is open (window and day), or
  /// nullopt if none before `limit`.
  std::optional<model::sys_time> first_open(const local_rules& lr, model::sys_time from,
                                            model::sys_time limit) const noexcept;
  std::optional<model::sys_time> next_open_in(const local_rules& lr, const date::time_zone& z,
                                              model::sys_time t,
                                              model::sys_time limit) const noexcept;

  std::shared_ptr<const config::settings> settings_;
  std::array<const date::time_zone*, 256> zone_by_id_{};
  zones fallback_;
  std::array<region_rules, 26 * 26> regions_{};
  /// (local day number << 16 | region index), sorted: O(log n) holiday lookup.
  std::vector<std::int64_t> holidays_;
  /// Lists in evaluation order: internal, litigator, then registries; by name within a kind.
  std::vector<const config::list_settings*> lists_;
};

}  // namespace stopgate::dnc::policy

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::policy::policy_errc> : std::true_type {};
