// Calling windows, restricted days and retry_at at exact instants (SPEC section 5).
#include "engine_test_support.hpp"

namespace stopgate::dnc::policy {
namespace {

const policy_engine& engine() {
  static const policy_engine e = make_engine(k_policy_toml);
  return e;
}

constexpr const char* NY = "America/New_York";
constexpr const char* CHI = "America/Chicago";
constexpr const char* DEN = "America/Denver";
constexpr const char* LA = "America/Los_Angeles";
constexpr const char* PHX = "America/Phoenix";
constexpr const char* HNL = "Pacific/Honolulu";
constexpr const char* ANC = "America/Anchorage";
constexpr const char* TOR = "America/Toronto";

struct window_case {
  const char* name;
  const char* number;
  model::sys_time at;
  decision outcome;
  reasons why;
  std::optional<model::sys_time> retry;
};

std::ostream& operator<<(std::ostream& os, const window_case& c) {
  return os << c.name;
}

// 2026-03-10 is a Tuesday (after the 8 March spring-forward); 03-13 Fri, 03-14 Sat, 03-15 Sun.
const window_case k_cases[] = {
    // Federal window 08:00-21:00 in each US zone.
    {"ny_before_8",
     "+12125552671",
     local(NY, 2026, 3, 10, 7, 59),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 10, 8, 0)},
    {"ny_at_8", "+12125552671", local(NY, 2026, 3, 10, 8, 0), decision::allow, {}, {}},
    {"ny_2059", "+12125552671", local(NY, 2026, 3, 10, 20, 59, 59), decision::allow, {}, {}},
    {"ny_at_21",
     "+12125552671",
     local(NY, 2026, 3, 10, 21, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 8, 0)},
    {"chicago_0730",
     "+13125552671",
     local(CHI, 2026, 3, 10, 7, 30),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 10, 8, 0)},
    {"chicago_noon", "+13125552671", local(CHI, 2026, 3, 10, 12, 0), decision::allow, {}, {}},
    {"denver_2130",
     "+13035552671",
     local(DEN, 2026, 3, 10, 21, 30),
     decision::defer,
     {"quiet_hours"},
     local(DEN, 2026, 3, 11, 8, 0)},
    {"la_0759",
     "+14155552672",
     local(LA, 2026, 3, 10, 7, 59),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 10, 15, 0)},
    {"la_noon_is_15_utc_ny_evening",
     "+14155552672",
     utc(2026, 3, 10, 19, 0),
     decision::allow,
     {},
     {}},
    {"phoenix_no_dst",
     "+16025552671",
     local(PHX, 2026, 7, 14, 7, 59),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 7, 14, 15, 0)},
    {"honolulu_2059", "+18085552671", local(HNL, 2026, 3, 10, 20, 59), decision::allow, {}, {}},
    {"honolulu_2100",
     "+18085552671",
     local(HNL, 2026, 3, 10, 21, 0),
     decision::defer,
     {"quiet_hours"},
     local(HNL, 2026, 3, 11, 8, 0)},
    // 907: Adak and Anchorage; Adak is an hour behind, so it opens last and Anchorage closes first.
    {"alaska_adak_not_open",
     "+19075552671",
     local(ANC, 2026, 3, 10, 8, 30),
     decision::defer,
     {"quiet_hours"},
     local(ANC, 2026, 3, 10, 9, 0)},
    {"alaska_both_open", "+19075552671", local(ANC, 2026, 3, 10, 20, 30), decision::allow, {}, {}},
    {"alaska_anchorage_closed",
     "+19075552671",
     local(ANC, 2026, 3, 10, 21, 0),
     decision::defer,
     {"quiet_hours"},
     local(ANC, 2026, 3, 11, 9, 0)},

    // Daylight saving: 2026-03-08 spring forward, 2026-11-01 fall back.
    {"dst_start_retry_across_change",
     "+12125552671",
     local(NY, 2026, 3, 7, 21, 30),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 8, 12, 0)},
    {"dst_start_in_gap_day",
     "+12125552671",
     local(NY, 2026, 3, 8, 3, 0),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 8, 12, 0)},
    {"dst_start_0800_edt_open", "+12125552671", utc(2026, 3, 8, 12, 0), decision::allow, {}, {}},
    {"dst_start_0759_edt",
     "+12125552671",
     utc(2026, 3, 8, 11, 59),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 8, 12, 0)},
    {"dst_end_retry_across_change",
     "+12125552671",
     local(NY, 2026, 10, 31, 22, 0),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 11, 1, 13, 0)},
    {"dst_end_second_0130",
     "+12125552671",
     utc(2026, 11, 1, 6, 30),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 11, 1, 13, 0)},
    {"dst_end_0759_est",
     "+12125552671",
     utc(2026, 11, 1, 12, 59),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 11, 1, 13, 0)},
    {"dst_end_0800_est_open", "+12125552671", utc(2026, 11, 1, 13, 0), decision::allow, {}, {}},
    {"dst_end_2059_est", "+12125552671", utc(2026, 11, 2, 1, 59), decision::allow, {}, {}},
    {"phoenix_on_dst_start_day",
     "+16025552671",
     local(PHX, 2026, 3, 8, 7, 59),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 8, 15, 0)},

    // Split-zone area code 208: 208-200 is Boise or Los Angeles (intersection), 208-201 Denver.
    {"split_208_boise_open_la_not",
     "+12082002671",
     local(DEN, 2026, 3, 10, 8, 30),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 10, 15, 0)},
    {"split_208_both_open", "+12082002671", utc(2026, 3, 10, 15, 0), decision::allow, {}, {}},
    {"split_208_la_open_boise_closed",
     "+12082002671",
     local(LA, 2026, 3, 10, 20, 30),
     decision::defer,
     {"quiet_hours"},
     local(LA, 2026, 3, 11, 8, 0)},
    {"split_208_201_denver_only",
     "+12082012671",
     local(DEN, 2026, 3, 10, 8, 30),
     decision::allow,
     {},
     {}},
    {"split_208_201_denver_closed",
     "+12082012671",
     local(DEN, 2026, 3, 10, 21, 0),
     decision::defer,
     {"quiet_hours"},
     local(DEN, 2026, 3, 11, 8, 0)},

    // State overrides (SPEC section 5).
    {"fl_1959", "+13055552671", local(NY, 2026, 3, 10, 19, 59), decision::allow, {}, {}},
    {"fl_2000",
     "+13055552671",
     local(NY, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 8, 0)},
    {"ok_2000",
     "+14055552671",
     local(CHI, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 11, 8, 0)},
    {"ok_0800", "+14055552671", local(CHI, 2026, 3, 10, 8, 0), decision::allow, {}, {}},
    {"md_2000",
     "+14105552671",
     local(NY, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 8, 0)},
    {"wa_2000",
     "+12065552671",
     local(LA, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(LA, 2026, 3, 11, 8, 0)},
    {"ma_2000",
     "+16175552671",
     local(NY, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 8, 0)},
    {"ct_0830",
     "+12035552671",
     local(NY, 2026, 3, 10, 8, 30),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 10, 9, 0)},
    {"ct_1959", "+12035552671", local(NY, 2026, 3, 10, 19, 59), decision::allow, {}, {}},
    {"ct_2000",
     "+12035552671",
     local(NY, 2026, 3, 10, 20, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 9, 0)},
    {"tx_weekday_0830",
     "+12145552671",
     local(CHI, 2026, 3, 10, 8, 30),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 10, 9, 0)},
    {"tx_weekday_2059", "+12145552671", local(CHI, 2026, 3, 10, 20, 59), decision::allow, {}, {}},
    {"tx_saturday_0859",
     "+12145552671",
     local(CHI, 2026, 3, 14, 8, 59),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 14, 9, 0)},
    {"tx_sunday_1100",
     "+12145552671",
     local(CHI, 2026, 3, 15, 11, 0),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 15, 12, 0)},
    {"tx_sunday_1200", "+12145552671", local(CHI, 2026, 3, 15, 12, 0), decision::allow, {}, {}},
    {"tx_saturday_2100_to_sunday_noon",
     "+12145552671",
     local(CHI, 2026, 3, 14, 21, 0),
     decision::defer,
     {"quiet_hours"},
     local(CHI, 2026, 3, 15, 12, 0)},
    {"ky_0930",
     "+15025552671",
     local(NY, 2026, 3, 10, 9, 30),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 10, 10, 0)},
    {"ky_2059", "+15025552671", local(NY, 2026, 3, 10, 20, 59), decision::allow, {}, {}},
    {"ri_weekday_1759", "+14015552671", local(NY, 2026, 3, 10, 17, 59), decision::allow, {}, {}},
    {"ri_weekday_1800",
     "+14015552671",
     local(NY, 2026, 3, 10, 18, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 11, 9, 0)},
    {"ri_saturday_0930",
     "+14015552671",
     local(NY, 2026, 3, 14, 9, 30),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 14, 10, 0)},
    {"ri_saturday_1700_skips_sunday",
     "+14015552671",
     local(NY, 2026, 3, 14, 17, 0),
     decision::defer,
     {"quiet_hours"},
     local(NY, 2026, 3, 16, 9, 0)},
    {"ri_sunday_none_and_banned",
     "+14015552671",
     local(NY, 2026, 3, 15, 12, 0),
     decision::defer,
     {"restricted_day", "quiet_hours"},
     local(NY, 2026, 3, 16, 9, 0)},

    // Canada: 09:00-21:30 weekdays, 10:00-18:00 weekends.
    {"ca_weekday_2115", "+14165552671", local(TOR, 2026, 3, 10, 21, 15), decision::allow, {}, {}},
    {"ca_weekday_2130",
     "+14165552671",
     local(TOR, 2026, 3, 10, 21, 30),
     decision::defer,
     {"quiet_hours"},
     local(TOR, 2026, 3, 11, 9, 0)},
    {"ca_weekday_0859",
     "+14165552671",
     local(TOR, 2026, 3, 10, 8, 59),
     decision::defer,
     {"quiet_hours"},
     local(TOR, 2026, 3, 10, 9, 0)},
    {"ca_friday_2130_to_saturday_10",
     "+14165552671",
     local(TOR, 2026, 3, 13, 21, 30),
     decision::defer,
     {"quiet_hours"},
     local(TOR, 2026, 3, 14, 10, 0)},
    {"ca_saturday_0930",
     "+14165552671",
     local(TOR, 2026, 3, 14, 9, 30),
     decision::defer,
     {"quiet_hours"},
     local(TOR, 2026, 3, 14, 10, 0)},
    {"ca_saturday_1800",
     "+14165552671",
     local(TOR, 2026, 3, 14, 18, 0),
     decision::defer,
     {"quiet_hours"},
     local(TOR, 2026, 3, 15, 10, 0)},
    {"ca_sunday_1759", "+14165552671", local(TOR, 2026, 3, 15, 17, 59), decision::allow, {}, {}},

    // Holidays and Sunday bans, judged on the local date.
    {"al_observed_holiday_to_monday",
     "+12055552671",
     local(CHI, 2026, 7, 3, 12, 0),
     decision::defer,
     {"restricted_day"},
     local(CHI, 2026, 7, 6, 8, 0)},
    {"al_day_before_holiday_evening_utc_is_holiday",
     "+12055552671",
     local(CHI, 2026, 7, 2, 19, 30),
     decision::allow,
     {},
     {}},
    {"al_mlk_day",
     "+12055552671",
     local(CHI, 2026, 1, 19, 12, 0),
     decision::defer,
     {"restricted_day"},
     local(CHI, 2026, 1, 20, 8, 0)},
    {"al_mlk_day_night_both_reasons",
     "+12055552671",
     local(CHI, 2026, 1, 19, 21, 30),
     decision::defer,
     {"restricted_day", "quiet_hours"},
     local(CHI, 2026, 1, 20, 8, 0)},
    {"al_sunday_then_holiday_monday",
     "+12055552671",
     local(CHI, 2026, 1, 18, 21, 0),
     decision::defer,
     {"restricted_day", "quiet_hours"},
     local(CHI, 2026, 1, 20, 8, 0)},
    {"ny_on_al_holiday_allowed",
     "+12125552671",
     local(NY, 2026, 1, 19, 12, 0),
     decision::allow,
     {},
     {}},
    {"ut_sunday_ban",
     "+18015552671",
     local(DEN, 2026, 3, 15, 12, 0),
     decision::defer,
     {"restricted_day"},
     local(DEN, 2026, 3, 16, 8, 0)},
    {"al_sunday_ban",
     "+12055552671",
     local(CHI, 2026, 3, 15, 12, 0),
     decision::defer,
     {"restricted_day"},
     local(CHI, 2026, 3, 16, 8, 0)},
    {"ny_sunday_allowed", "+12125552671", local(NY, 2026, 3, 15, 12, 0), decision::allow, {}, {}},

    // No zone data: the fallback zones (New York .. Los Angeles) are intersected.
    {"uk_number_fallback_closed",
     "+442071838750",
     utc(2026, 3, 10, 14, 0),
     decision::defer,
     {"quiet_hours"},
     utc(2026, 3, 10, 15, 0)},
    {"uk_number_fallback_open", "+442071838750", utc(2026, 3, 10, 15, 0), decision::allow, {}, {}},
    {"toll_free_fallback_closed_evening",
     "+18002752273",
     local(NY, 2026, 3, 10, 21, 30),
     decision::defer,
     {"quiet_hours"},
     local(LA, 2026, 3, 11, 8, 0)},
};

class PolicyWindows : public ::testing::TestWithParam<window_case> {};

TEST_P(PolicyWindows, DecidesAtExactInstant) {
  const window_case& c = GetParam();
  const auto d = engine().evaluate(request(num(c.number), c.at), consented(), fresh_lists(c.at));
  EXPECT_EQ(d.outcome, c.outcome) << to_string(d.outcome);
  EXPECT_EQ(d.reasons, c.why);
  EXPECT_EQ(d.retry_at, c.retry) << (d.retry_at ? date::format("%FT%TZ", *d.retry_at) : "none");
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyWindows, ::testing::ValuesIn(k_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PolicyCalendar, InformationalIgnoresWindowsAndBansByDefault) {
  auto r = request(num("+14015552671"), local(NY, 2026, 3, 15, 3, 0));  // RI, Sunday, 03:00
  r.purpose = config::purpose::informational;
  const auto d = engine().evaluate(r, model::number_facts{}, fresh_lists(r.at));
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_TRUE(d.reasons.empty());
}

TEST(PolicyCalendar, RetryAtIsAbsentWhenTheWindowNeverOpens) {
  auto e = make_engine(k_policy_toml + R"(
[policy.windows]
federal = "08:00-21:00"
canada = "09:00-21:30"
CO = "none"
)");
  const model::sys_time at = local(DEN, 2026, 3, 10, 12, 0);
  const auto d = e.evaluate(request(num("+13035552671"), at), consented(), fresh_lists(at));
  EXPECT_EQ(d.outcome, decision::defer);
  EXPECT_EQ(d.reasons, reasons{"quiet_hours"});
  EXPECT_FALSE(d.retry_at);
}

TEST(PolicyCalendar, WindowOpeningInsideTheSpringGapOpensAtTheJump) {
  auto e = make_engine(k_policy_toml + R"(
[policy.windows]
federal = "02:30-21:00"
canada = "09:00-21:30"
)");
  // 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
  const model::sys_time at = utc(2026, 3, 8, 6, 0);  // 01:00 EST
  const auto d = e.evaluate(request(num("+12125552671"), at), consented(), fresh_lists(at));
  EXPECT_EQ(d.outcome, decision::defer);
  EXPECT_EQ(d.retry_at, utc(2026, 3, 8, 7, 0));
}

TEST(PolicyCalendar, RestrictedDaysApplyWithoutWindowsWhenConfigured) {
  auto e = make_engine(k_policy_toml + R"(
[policy.marketing]
apply_calling_window = false
)");
  const model::sys_time at = local(NY, 2026, 3, 15, 3, 0);  // RI, Sunday 03:00
  const auto d = e.evaluate(request(num("+14015552671"), at), consented(), fresh_lists(at));
  EXPECT_EQ(d.reasons, reasons{"restricted_day"});
  EXPECT_EQ(d.retry_at, local(NY, 2026, 3, 16, 0, 0));  // Monday midnight: no window applies
}

}  // namespace
}  // namespace stopgate::dnc::policy
