#include "dnc/model/time_zones.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace stopgate::dnc::model {
namespace {

using namespace std::chrono_literals;
using namespace date::literals;
using date::December;
using date::January;
using date::July;
using date::March;
using date::November;
using date::October;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;

sys_seconds utc(date::year_month_day d, seconds tod) {
  return date::sys_days(d) + tod;
}
date::local_days day(date::year_month_day d) {
  return date::local_days(d);
}

class TimeZones : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = zone_rules::load();
    ASSERT_TRUE(r) << r.error().message();
    rules_ = new zone_rules(*r);
  }
  static void TearDownTestSuite() {
    delete rules_;
    rules_ = nullptr;
  }
  static const date::time_zone& zone(std::string_view name) {
    const auto id = find_zone(name);
    EXPECT_TRUE(id) << name;
    return *rules_->zone(*id);
  }
  static zone_rules* rules_;
};
zone_rules* TimeZones::rules_ = nullptr;

TEST_F(TimeZones, EveryTableZoneResolvesToItsName) {
  for (std::size_t i = 0; i < zone_count(); ++i) {
    const date::time_zone* z = rules_->zone(zone_id(i));
    ASSERT_NE(z, nullptr) << zone_name(zone_id(i));
    // Some names are links in tzdata (America/Lower_Princes -> Puerto_Rico); date keeps ours.
    EXPECT_EQ(z->name(), zone_name(zone_id(i)));
  }
  EXPECT_EQ(rules_->zone(zone_id(zone_count())), nullptr);
  EXPECT_EQ(rules_->zone(255), nullptr);
}

TEST_F(TimeZones, LocalTimeAcrossSpringForwardInNewYork) {
  const auto& ny = zone("America/New_York");
  // 2026-03-08 02:00 EST becomes 03:00 EDT at 07:00 UTC.
  const local_reading before = local_time_at(ny, utc(2026_y / March / 8, 6h + 59min + 59s));
  EXPECT_EQ(before.day, day(2026_y / March / 8));
  EXPECT_EQ(before.time_of_day, 1h + 59min + 59s);
  EXPECT_EQ(before.weekday(), date::Sunday);
  const local_reading after = local_time_at(ny, utc(2026_y / March / 8, 7h));
  EXPECT_EQ(after.time_of_day, 3h);
  // The day before, the local day still began at 05:00 UTC.
  const local_reading eve = local_time_at(ny, utc(2026_y / March / 8, 4h + 59min));
  EXPECT_EQ(eve.day, day(2026_y / March / 7));
  EXPECT_EQ(eve.time_of_day, 23h + 59min);
}

TEST_F(TimeZones, InstantOfWallTimeAcrossSpringForward) {
  const auto& ny = zone("America/New_York");
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 7), 8h), utc(2026_y / March / 7, 13h));  // EST
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 8h), utc(2026_y / March / 8, 12h));  // EDT
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 21h), utc(2026_y / March / 9, 1h));  // EDT
  // 02:30 never happens that day: the clock passes it at the jump, 07:00 UTC.
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 2h + 30min), utc(2026_y / March / 8, 7h));
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 2h), utc(2026_y / March / 8, 7h));
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 3h), utc(2026_y / March / 8, 7h));
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 1h + 59min),
            utc(2026_y / March / 8, 6h + 59min));
  // 24h is the next local midnight (a 23-hour day).
  EXPECT_EQ(instant_of(ny, day(2026_y / March / 8), 24h), utc(2026_y / March / 9, 4h));
  EXPECT_EQ(
      instant_of(ny, day(2026_y / March / 8), 24h) - instant_of(ny, day(2026_y / March / 8), 0h),
      23h);
}

TEST_F(TimeZones, FallBackInNewYork) {
  const auto& ny = zone("America/New_York");
  // 2026-11-01 02:00 EDT becomes 01:00 EST at 06:00 UTC: 01:30 happens at 05:30 and 06:30.
  EXPECT_EQ(local_time_at(ny, utc(2026_y / November / 1, 5h + 30min)).time_of_day, 1h + 30min);
  EXPECT_EQ(local_time_at(ny, utc(2026_y / November / 1, 6h + 30min)).time_of_day, 1h + 30min);
  EXPECT_EQ(local_time_at(ny, utc(2026_y / November / 1, 6h)).time_of_day, 1h);
  // The earlier occurrence is chosen.
  EXPECT_EQ(instant_of(ny, day(2026_y / November / 1), 1h + 30min),
            utc(2026_y / November / 1, 5h + 30min));
  EXPECT_EQ(instant_of(ny, day(2026_y / November / 1), 8h), utc(2026_y / November / 1, 13h));
  EXPECT_EQ(instant_of(ny, day(2026_y / October / 31), 8h), utc(2026_y / October / 31, 12h));
  // A 25-hour day.
  EXPECT_EQ(instant_of(ny, day(2026_y / November / 1), 24h) -
                instant_of(ny, day(2026_y / November / 1), 0h),
            25h);
  EXPECT_EQ(local_time_at(ny, utc(2026_y / November / 1, 12h)).weekday(), date::Sunday);
}

TEST_F(TimeZones, PhoenixHasNoDaylightSaving) {
  const auto& phx = zone("America/Phoenix");
  for (auto d : {2026_y / March / 7, 2026_y / March / 8, 2026_y / July / 1, 2026_y / November / 1,
                 2026_y / December / 24}) {
    EXPECT_EQ(instant_of(phx, day(d), 8h), utc(d, 15h));
    EXPECT_EQ(local_time_at(phx, utc(d, 15h)).time_of_day, 8h);
  }
  // Same instant, different answers: Denver observes DST.
  const auto& den = zone("America/Denver");
  EXPECT_EQ(instant_of(den, day(2026_y / July / 1), 8h), utc(2026_y / July / 1, 14h));
  EXPECT_EQ(instant_of(den, day(2026_y / December / 1), 8h), utc(2026_y / December / 1, 15h));
}

TEST_F(TimeZones, HalfHourAndFarZones) {
  // St. John's is UTC-3:30 in winter; Honolulu UTC-10 all year.
  EXPECT_EQ(instant_of(zone("America/St_Johns"), day(2026_y / January / 15), 9h),
            utc(2026_y / January / 15, 12h + 30min));
  EXPECT_EQ(instant_of(zone("Pacific/Honolulu"), day(2026_y / July / 4), 21h),
            utc(2026_y / July / 5, 7h));
  EXPECT_EQ(local_time_at(zone("Pacific/Guam"), utc(2026_y / July / 4, 23h)).day,
            day(2026_y / July / 5));
}

TEST_F(TimeZones, WallTimeRoundTripsOutsideTransitions) {
  // Every hour of 2026 in a few zones: local -> instant -> local is the identity, and
  // instant -> local -> instant too except in the repeated hour of a fall-back.
  for (auto name : {"America/New_York", "America/Chicago", "America/Phoenix", "America/Regina",
                    "America/St_Johns", "America/Adak"}) {
    const auto& z = zone(name);
    for (sys_seconds t = utc(2026_y / January / 1, 0h); t < utc(2027_y / January / 1, 0h);
         t += hours(1)) {
      const local_reading r = local_time_at(z, t);
      const sys_seconds back = instant_of(z, r.day, r.time_of_day);
      if (back != t) {
        // Only the second pass through a repeated hour maps to the earlier instant.
        ASSERT_LT(back, t) << name;
        ASSERT_EQ(local_time_at(z, back).local(), r.local()) << name;
      }
    }
  }
}

TEST_F(TimeZones, ConversionThroughput) {
  // Rough numbers for the report, no assertion on time.
  const auto& ny = zone("America/New_York");
  const sys_seconds start = utc(2026_y / January / 1, 0h);
  constexpr int n = 1'000'000;
  long long sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) sink += local_time_at(ny, start + minutes(i * 7)).time_of_day.count();
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    sink += instant_of(ny, day(2026_y / January / 1) + date::days(i % 365), 8h)
                .time_since_epoch()
                .count();
  auto t2 = std::chrono::steady_clock::now();
  const double a = std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
  const double b = std::chrono::duration<double, std::nano>(t2 - t1).count() / n;
  std::printf("[ info     ] local_time_at %.1f ns, instant_of %.1f ns (sink %lld)\n", a, b, sink);
  EXPECT_NE(sink, 0);
}

TEST(TimeZonesErrors, CategoryMessages) {
  const boost::system::error_code ec = tz_errc::unknown_zone;
  EXPECT_EQ(ec.category().name(), std::string_view("stopgate.tz"));
  EXPECT_FALSE(ec.message().empty());
  EXPECT_NE(ec, boost::system::error_code(tz_errc::tzdata_unavailable));
}

}  // namespace
}  // namespace stopgate::dnc::model
