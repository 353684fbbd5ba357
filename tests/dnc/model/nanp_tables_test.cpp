#include "dnc/model/nanp_tables.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace stopgate::dnc::model {
namespace {

namespace fs = std::filesystem;

phone_number num(unsigned npa, unsigned nxx, unsigned line = 2671) {
  return phone_number::nanp(npa, nxx * 10'000 + line);
}

// Zone names of a number's candidate set, sorted (ids are sorted by name).
std::vector<std::string> zones(phone_number n) {
  std::vector<std::string> out;
  for (zone_id id : zones_of(n)) out.emplace_back(zone_name(id));
  return out;
}

using names = std::vector<std::string>;

void expect_region(phone_number n, std::string_view code, nanp_country country,
                   std::string_view iso) {
  const nanp_region r = region_of(n);
  EXPECT_EQ(r.code_view(), code) << n.e164();
  EXPECT_EQ(r.country, country) << n.e164();
  EXPECT_EQ(r.iso_view(), iso) << n.e164();
  EXPECT_TRUE(r.known()) << n.e164();
}

// The shared data directory, if this checkout has one next to it (or STOPGATE_SHARED_DATA).
std::optional<fs::path> shared_data_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("STOPGATE_SHARED_DATA")) candidates.emplace_back(env);
  const fs::path src = STOPGATE_SOURCE_DIR;
  candidates.push_back(src / ".." / "shared" / "data");
  // Worktrees live one level deeper than the main checkout (/work/wt/NAME).
  candidates.push_back(src / ".." / ".." / "shared" / "data");
  for (const fs::path& p : candidates) {
    if (fs::exists(p / "libphonenumber-timezones-map_data.txt") &&
        fs::exists(p / "libphonenumber-geocoding-en-1.txt"))
      return p;
  }
  return std::nullopt;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(NanpTables, KnownAreaCodes) {
  expect_region(num(212, 736), "NY", nanp_country::us, "US");
  EXPECT_EQ(zones(num(212, 736)), names{"America/New_York"});
  expect_region(num(415, 555), "CA", nanp_country::us, "US");
  EXPECT_EQ(zones(num(415, 555)), names{"America/Los_Angeles"});
  expect_region(num(416, 555), "ON", nanp_country::ca, "CA");
  EXPECT_EQ(zones(num(416, 555)), names{"America/Toronto"});
  expect_region(num(808, 555), "HI", nanp_country::us, "US");
  EXPECT_EQ(zones(num(808, 555)), names{"Pacific/Honolulu"});
  expect_region(num(602, 555), "AZ", nanp_country::us, "US");
  EXPECT_EQ(zones(num(602, 555)), names{"America/Phoenix"});
  expect_region(num(202, 555), "DC", nanp_country::us, "US");
  expect_region(num(306, 555), "SK", nanp_country::ca, "CA");
  EXPECT_EQ(zones(num(306, 555)), names{"America/Regina"});
}

TEST(NanpTables, OtherNanpCountriesHaveIsoCodeAndNoStateCode) {
  expect_region(num(242, 357), "", nanp_country::other, "BS");
  EXPECT_EQ(zones(num(242, 357)), names{"America/Nassau"});
  expect_region(num(876, 555), "", nanp_country::other, "JM");
  EXPECT_EQ(zones(num(876, 555)), names{"America/Jamaica"});
  expect_region(num(809, 555), "", nanp_country::other, "DO");
  // Montserrat's ISO code is MS, which is also Mississippi's state code: it must not leak
  // into the state code, or Mississippi's rules would apply.
  expect_region(num(664, 555), "", nanp_country::other, "MS");
  expect_region(num(441, 555), "", nanp_country::other, "BM");
}

TEST(NanpTables, UsTerritoriesAreUsWithTheirOwnCodes) {
  expect_region(num(787, 555), "PR", nanp_country::us, "PR");
  EXPECT_EQ(zones(num(787, 555)), names{"America/Puerto_Rico"});
  expect_region(num(939, 555), "PR", nanp_country::us, "PR");
  expect_region(num(340, 555), "VI", nanp_country::us, "VI");
  expect_region(num(671, 555), "GU", nanp_country::us, "GU");
  expect_region(num(670, 555), "MP", nanp_country::us, "MP");
  expect_region(num(684, 555), "AS", nanp_country::us, "AS");
  EXPECT_EQ(zones(num(684, 555)), names{"Pacific/Pago_Pago"});
}

TEST(NanpTables, NonGeographicAndUnknownHaveNothing) {
  for (unsigned npa : {800u, 888u, 877u, 866u, 855u, 844u, 833u, 500u, 900u, 200u, 299u, 999u}) {
    const phone_number n = num(npa, 555);
    EXPECT_FALSE(region_of(n).known()) << npa;
    EXPECT_EQ(region_of(n), nanp_region{}) << npa;
    EXPECT_TRUE(zones_of(n).empty()) << npa;
  }
  // Not NANP at all.
  const phone_number uk = phone_number::from_value(442071234567ULL);
  EXPECT_FALSE(region_of(uk).known());
  EXPECT_TRUE(zones_of(uk).empty());
  EXPECT_TRUE(zones_of(phone_number{}).empty());
  // Unchecked construction with an exchange below 200 still answers (the area code's run).
  EXPECT_EQ(region_of(num(208, 0)).code_view(), "ID");
}

TEST(NanpTables, SplitAreaCodesRefinedByExchange) {
  // 208 (Idaho): no area-code entry; exchanges split between Mountain and Pacific.
  EXPECT_EQ(zones(num(208, 201)), names{"America/Denver"});
  EXPECT_EQ(zones(num(208, 215)), names{"America/Los_Angeles"});
  EXPECT_EQ(zones(num(208, 200)), (names{"America/Boise", "America/Los_Angeles"}));  // 12082
  EXPECT_EQ(zones(num(208, 230)), names{"America/Denver"});                          // 120823
  EXPECT_EQ(zones(num(208, 401)), names{"America/Denver"});                          // 1208401
  EXPECT_EQ(zones(num(208, 410)), (names{"America/Boise", "America/Los_Angeles"}));  // 120841
  // Exchanges no prefix covers get every zone of the area code.
  EXPECT_EQ(zones(num(208, 100)),
            (names{"America/Boise", "America/Denver", "America/Los_Angeles"}));
  expect_region(num(208, 201), "ID", nanp_country::us, "US");

  // 850 (Florida panhandle): Eastern, with Central exchanges.
  EXPECT_EQ(zones(num(850, 222)), names{"America/New_York"});
  EXPECT_EQ(zones(num(850, 230)), names{"America/Chicago"});  // 185023
  // 605 (South Dakota): both halves by default, Central and Mountain exchanges.
  EXPECT_EQ(zones(num(605, 555)), (names{"America/Denver", "America/North_Dakota/Center"}));
  EXPECT_EQ(zones(num(605, 201)), names{"America/Chicago"});
  EXPECT_EQ(zones(num(605, 209)), names{"America/Denver"});
  // 915 (El Paso): the data lists Mountain only.
  EXPECT_EQ(zones(num(915, 555)), names{"America/Denver"});
  // 907 (Alaska): Adak and Anchorage, with Juneau exchanges.
  EXPECT_EQ(zones(num(907, 555)), (names{"America/Adak", "America/Anchorage"}));
  EXPECT_EQ(zones(num(907, 209)), names{"America/Juneau"});
  // 928 (northern Arizona): Phoenix, and Denver too where the Navajo Nation observes DST.
  EXPECT_EQ(zones(num(928, 555)), names{"America/Phoenix"});
  EXPECT_EQ(zones(num(928, 283)), (names{"America/Denver", "America/Phoenix"}));
}

TEST(NanpTables, RegionRefinedByExchangeWhereTheDataSaysSo) {
  // 902 is Nova Scotia or PEI; its exchanges say which.
  const nanp_region ns_or_pe = region_of(num(902, 100));
  EXPECT_TRUE(ns_or_pe.known());
  EXPECT_FALSE(ns_or_pe.has_code());
  EXPECT_EQ(ns_or_pe.country, nanp_country::ca);
  // 867: Yukon, Northwest Territories or Nunavut.
  expect_region(num(867, 393), "YT", nanp_country::ca, "CA");  // Whitehorse
  expect_region(num(867, 669), "NT", nanp_country::ca, "CA");  // Yellowknife
  expect_region(num(867, 979), "NU", nanp_country::ca, "CA");  // Iqaluit
  EXPECT_FALSE(region_of(num(867, 555)).has_code());
  // 201-631 is listed as New York, NY inside New Jersey's 201.
  expect_region(num(201, 631), "NY", nanp_country::us, "US");
  expect_region(num(201, 630), "NJ", nanp_country::us, "US");
}

TEST(NanpTables, EveryNumberHasConsistentAnswers) {
  // Geographic means both a region and zones; ids are valid, sorted and bounded.
  for (unsigned npa = 200; npa < 1000; ++npa) {
    for (unsigned nxx = 0; nxx < 1000; ++nxx) {
      const phone_number n = num(npa, nxx);
      const zone_set z = zones_of(n);
      ASSERT_EQ(region_of(n).known(), !z.empty()) << n.e164();
      ASSERT_LE(z.size(), zone_set::max_size);
      for (std::size_t i = 0; i < z.size(); ++i) {
        ASSERT_LT(z.ids()[i], zone_count());
        if (i > 0) {
          ASSERT_LT(z.ids()[i - 1], z.ids()[i]);
        }
      }
    }
  }
}

// Reads the +1 entries of a libphonenumber prefix file.
std::map<std::string, std::string> read_prefixes(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const auto bar = line.find('|');
    if (line.empty() || line[0] != '1' || bar == std::string::npos || bar < 4) continue;
    out[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return out;
}

TEST(NanpTables, ZonesMatchLongestPrefixOfTheSourceData) {
  const auto dir = shared_data_dir();
  if (!dir) GTEST_SKIP() << "shared data directory not found";
  const auto tz = read_prefixes(*dir / "libphonenumber-timezones-map_data.txt");
  ASSERT_GT(tz.size(), 2000u);
  std::size_t checked = 0;
  for (unsigned npa = 200; npa < 1000; ++npa) {
    for (unsigned nxx = 200; nxx < 1000; ++nxx) {
      const std::string digits = "1" + std::to_string(npa) + std::to_string(nxx);
      std::string expected;
      for (std::size_t len : {7u, 6u, 5u, 4u}) {
        auto it = tz.find(digits.substr(0, len));
        if (it != tz.end()) {
          expected = it->second;
          break;
        }
      }
      if (expected.empty()) continue;  // area codes without an entry: checked elsewhere
      std::string got;
      for (zone_id id : zones_of(num(npa, nxx))) {
        if (!got.empty()) got += '&';
        got += zone_name(id);
      }
      // The source lists zones sorted by name, as the ids are.
      ASSERT_EQ(got, expected) << digits;
      ++checked;
    }
  }
  EXPECT_GT(checked, 300'000u);
}

// A temporary zone_set's ids() would dangle; the overload is deleted.
template <class T>
concept ids_callable = requires(T&& t) {
  std::forward<T>(t).ids();
};
static_assert(ids_callable<const zone_set&>);
static_assert(!ids_callable<zone_set>);

TEST(NanpTables, ZoneSetIteratesItsIds) {
  const zone_set z = zones_of(num(208, 200));
  ASSERT_EQ(z.size(), 2u);
  std::vector<zone_id> seen(z.begin(), z.end());
  EXPECT_EQ(seen, std::vector<zone_id>(z.ids().begin(), z.ids().end()));
  EXPECT_TRUE(z.contains(*find_zone("America/Boise")));
  EXPECT_FALSE(z.contains(*find_zone("America/Denver")));
}

TEST(NanpTables, ZoneNamesRoundTrip) {
  ASSERT_GT(zone_count(), 30u);
  for (std::size_t i = 0; i < zone_count(); ++i) {
    const std::string_view name = zone_name(zone_id(i));
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(find_zone(name), zone_id(i)) << name;
  }
  EXPECT_EQ(zone_name(zone_id(zone_count())), "");
  EXPECT_EQ(zone_name(255), "");
  EXPECT_EQ(find_zone("Europe/London"), std::nullopt);
  EXPECT_EQ(find_zone(""), std::nullopt);
  ASSERT_TRUE(find_zone("America/Chicago"));
  EXPECT_EQ(zone_name(*find_zone("America/Chicago")), "America/Chicago");
}

TEST(NanpTables, GeneratorReproducesCommittedFile) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const auto dir = shared_data_dir();
  if (!dir) GTEST_SKIP() << "shared data directory not found";
  const fs::path src = STOPGATE_SOURCE_DIR;
  test::temp_dir tmp;
  const fs::path out = tmp.path() / "nanp_tables_data.cpp";
  const std::string cmd = "python3 '" + (src / "tools" / "gen-nanp-tables").string() + "' '" +
                          dir->string() + "' --output '" + out.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string committed = read_file(src / "dnc" / "model" / "nanp_tables_data.cpp");
  ASSERT_FALSE(committed.empty());
  EXPECT_TRUE(read_file(out) == committed)
      << "dnc/model/nanp_tables_data.cpp differs from the generator's output; rerun "
         "tools/gen-nanp-tables";
}

TEST(NanpTables, LookupThroughput) {
  // Rough numbers for the report, no assertion on time: a spread of numbers, including the
  // split area codes that take the binary search.
  std::vector<phone_number> numbers;
  for (unsigned npa = 200; npa < 1000; npa += 3)
    for (unsigned nxx = 200; nxx < 1000; nxx += 37) numbers.push_back(num(npa, nxx));
  for (unsigned nxx = 200; nxx < 1000; ++nxx) numbers.push_back(num(208, nxx));
  constexpr int rounds = 200;
  unsigned sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r)
    for (phone_number n : numbers) sink += zones_of(n).size() + unsigned(region_of(n).country);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double per_sec = double(numbers.size()) * rounds / secs;
  std::printf("[ info     ] zones_of+region_of: %.1f M numbers/s (%.1f ns each), sink %u\n",
              per_sec / 1e6, 1e9 / per_sec, sink);
  RecordProperty("lookups_per_second", std::to_string(std::llround(per_sec)));
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace stopgate::dnc::model
