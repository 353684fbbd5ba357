// Readers for [policy], [policy.marketing], [policy.informational], [policy.windows],
// [policy.holidays], [[policy.frequency_caps]] and keyword tables.
#include "config/defaults.hpp"
#include "config/load_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace stopgate::config::detail {
namespace {

constexpr std::string_view k_day_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::string_view k_window_help =
    "must be \"HH:MM-HH:MM\" (start before end), \"none\", or a table of such values with keys "
    "all, weekdays, weekends, mon, tue, wed, thu, fri, sat, sun";

/// One day value: a window or "none".
std::optional<std::optional<time_window>> parse_day(const toml::node& n) {
  auto s = n.value<std::string>();
  if (!s) return std::nullopt;
  if (*s == "none") return std::optional<time_window>{};
  if (auto w = parse_window(*s)) return std::optional<time_window>{*w};
  return std::nullopt;
}

/// A window value (string or per-day table). Days a table leaves out come from `base`, or are
/// an error when there is no base (the federal and Canadian windows must cover every day).
std::optional<week_windows> read_week(table_reader& parent, std::string_view key,
                                      const toml::node& n, const week_windows* base) {
  if (!n.is_table()) {
    auto day = parse_day(n);
    if (!day) {
      parent.problem(key, std::string(k_window_help), &n);
      return std::nullopt;
    }
    week_windows ww;
    ww.days.fill(*day);
    return ww;
  }
  table_reader t(n.as_table(), parent.key_path(key), parent.context());
  std::array<bool, 7> set{};
  week_windows ww;
  bool ok = true;
  // Most specific wins: a named day over weekdays/weekends over all.
  auto apply = [&](std::string_view k, std::initializer_list<int> days) {
    const toml::node* v = t.get(k);
    if (!v) return;
    auto day = parse_day(*v);
    if (!day) {
      t.problem(k, "must be \"HH:MM-HH:MM\" (start before end) or \"none\"", v);
      ok = false;
      return;
    }
    for (int d : days) {
      ww.days[d] = *day;
      set[d] = true;
    }
  };
  apply("all", {0, 1, 2, 3, 4, 5, 6});
  apply("weekdays", {1, 2, 3, 4, 5});
  apply("weekends", {0, 6});
  for (int d = 0; d < 7; ++d) apply(k_day_keys[d], {d});
  t.finish();
  for (int d = 0; d < 7 && ok; ++d) {
    if (set[d]) continue;
    if (!base) {
      t.problem(k_day_keys[d], "no window for this day: set all, weekdays/weekends or the day",
                &n);
      ok = false;
    } else {
      ww.days[d] = base->days[d];
    }
  }
  if (!ok) return std::nullopt;
  return ww;
}

bool read_regions(table_reader& t, std::string_view key, std::vector<std::string>& out) {
  if (!t.read(key, out)) return false;
  for (const auto& r : out)
    if (!is_region_code(r)) {
      t.problem(key, fmt::format("\"{}\" is not a US state/territory or Canadian province code",
                                 r), t.get(key));
      return false;
    }
  return true;
}

void read_purpose(table_reader t, purpose_policy& p) {
  enum_names<consent_level> levels{{"none", consent_level::none},
                                   {"express", consent_level::express},
                                   {"express_written", consent_level::express_written}};
  t.read_enum<failure_mode>("on_store_unavailable", p.on_store_unavailable,
                            {{"deny", failure_mode::deny}, {"allow", failure_mode::allow}});
  t.read("require_consent", p.require_consent);
  t.read_enum("consent_sms", p.sms, levels);
  t.read_enum("consent_voice_manual", p.voice_manual, levels);
  t.read_enum("consent_voice_atds", p.voice_atds, levels);
  t.read_enum("consent_voice_prerecorded", p.voice_prerecorded, levels);
  t.read("apply_calling_window", p.apply_calling_window);
  t.read("apply_restricted_days", p.apply_restricted_days);
  t.read("apply_frequency_caps", p.apply_frequency_caps);
  t.finish();
}

void read_windows(table_reader t, policy_settings& p) {
  if (!t.present()) return;
  if (const toml::node* n = t.get("federal"))
    if (auto ww = read_week(t, "federal", *n, nullptr)) p.federal = *ww;
  if (const toml::node* n = t.get("canada"))
    if (auto ww = read_week(t, "canada", *n, nullptr)) p.canada = *ww;
  // The regions listed replace the default region table as a whole.
  p.regions.clear();
  for (auto&& [k, v] : *t.table()) {
    std::string key(k.str());
    if (key == "federal" || key == "canada") continue;
    if (!is_region_code(key)) continue;  // finish() reports it as unknown
    t.get(key);
    if (auto ww = read_week(t, key, v, is_canadian_region(key) ? &p.canada : &p.federal))
      p.regions[key] = *ww;
  }
  if (t.table()) {
    for (auto&& [k, v] : *t.table()) {
      std::string_view key = k.str();
      if (key != "federal" && key != "canada" && !is_region_code(key))
        t.problem(key, "unknown key (allowed: federal, canada, or a US state/territory or "
                       "Canadian province code such as TX or ON)", &v);
    }
  }
}

void read_holidays(table_reader t, policy_settings& p) {
  if (!t.present()) return;
  p.holidays.clear();
  for (auto&& [k, v] : *t.table()) {
    std::string key(k.str());
    t.get(key);
    auto day = parse_date(key);
    if (!day) {
      t.problem(key, "must be a date \"YYYY-MM-DD\" (years 2000..2199)", &v);
      continue;
    }
    std::vector<std::string> regions;
    if (read_regions(t, key, regions)) p.holidays[*day] = std::move(regions);
  }
}

void read_caps(table_reader& t, policy_settings& p) {
  const toml::node* n = t.get("frequency_caps");
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables()) {
    t.problem("frequency_caps", "must be an array of tables ([[policy.frequency_caps]])", n);
    return;
  }
  p.frequency_caps.clear();
  for (std::size_t i = 0; i < a->size(); ++i) {
    table_reader c(a->get(i)->as_table(), fmt::format("{}[{}]", t.key_path("frequency_caps"), i),
                   t.context());
    frequency_cap cap;
    if (!read_regions(c, "states", cap.states) || cap.states.empty())
      c.problem("states", "must list at least one region code", c.get("states"));
    c.read_int("max", cap.max, 1, 1000);
    c.read_int("window_hours", cap.window_hours, 1, 24 * 31);
    c.finish();
    p.frequency_caps.push_back(std::move(cap));
  }
}

bool is_zone_name(std::string_view z) {
  if (z.empty() || z.size() > 64 || z.front() == '/' || z.find("..") != std::string_view::npos)
    return false;
  return std::all_of(z.begin(), z.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

/// Keyword text normalised the way the classifier normalises bodies (ASCII upper case, one
/// space between words); nullopt for text the classifier could never produce.
std::optional<std::string> normalise_keyword(std::string_view raw) {
  std::string out;
  bool space = false;
  for (char c : raw) {
    auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (!(std::isalnum(u) || c == '\'') || u >= 0x80) return std::nullopt;
    if (space) out.push_back(' ');
    space = false;
    out.push_back(char(std::toupper(u)));
  }
  if (out.empty() || out.size() > 64) return std::nullopt;
  return out;
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string describe_week(const week_windows& ww) {
  std::string out;
  for (const auto& d : ww.days)
    out += d ? format_hhmm(d->start) + "-" + format_hhmm(d->end) + ";" : "none;";
  return out;
}

std::string describe_purpose(const purpose_policy& p) {
  return fmt::format("{}{}{}{}{}{}{}{}{}", int(p.on_store_unavailable), p.require_consent,
                     int(p.sms), int(p.voice_manual), int(p.voice_atds),
                     int(p.voice_prerecorded), p.apply_calling_window, p.apply_restricted_days,
                     p.apply_frequency_caps);
}

}  // namespace

void read_policy(table_reader t, policy_settings& p) {
  t.read("version", p.version);
  if (p.version.size() > 64)
    t.problem("version", "must be at most 64 characters", t.get("version"));
  if (t.read("unknown_zone_fallback", p.unknown_zone_fallback)) {
    for (const auto& z : p.unknown_zone_fallback) {
      std::error_code ec;
      // The gateway loads zones from the OS tz database; check names where it is installed.
      bool known = !std::filesystem::is_directory("/usr/share/zoneinfo", ec) ||
                   std::filesystem::is_regular_file("/usr/share/zoneinfo/" + z, ec);
      if (!is_zone_name(z) || !known)
        t.problem("unknown_zone_fallback",
                  fmt::format("\"{}\" is not a tz database zone (e.g. \"America/Chicago\")", z),
                  t.get("unknown_zone_fallback"));
    }
    if (p.unknown_zone_fallback.empty())
      t.problem("unknown_zone_fallback", "must name at least one zone",
                t.get("unknown_zone_fallback"));
  }
  read_regions(t, "sunday_ban", p.sunday_ban);
  read_purpose(t.sub("marketing"), p.marketing);
  read_purpose(t.sub("informational"), p.informational);
  read_windows(t.sub("windows"), p);
  read_holidays(t.sub("holidays"), p);
  read_caps(t, p);
  t.finish();
  if (p.version.empty()) p.version = derive_policy_version(p);
}

void read_keywords(table_reader& t, keyword_settings& out) {
  t.read_enum<keyword_mode>("mode", out.mode,
                            {{"fcc2024", keyword_mode::fcc2024}, {"strict", keyword_mode::strict}});
  t.read_int("phrase_max_words", out.phrase_max_words, 1, 32);
  std::vector<std::string> languages;
  if (t.read("languages", languages)) {
    bool ok = true;
    for (const auto& l : languages)
      if (std::find(std::begin(k_keyword_languages), std::end(k_keyword_languages), l) ==
          std::end(k_keyword_languages)) {
        t.problem("languages", fmt::format("\"{}\" has no built-in keywords (known: en, es, fr)", l),
                  t.get("languages"));
        ok = false;
      }
    if (ok) {
      keyword_settings builtin = default_keywords(languages);
      out.languages = builtin.languages;
      out.opt_out = builtin.opt_out;
      out.opt_out_all = builtin.opt_out_all;
      out.opt_in = builtin.opt_in;
      out.help = builtin.help;
    }
  }
  struct list_ref {
    std::string_view key;
    std::vector<std::string>* list;
  };
  list_ref lists[] = {{"opt_out_all", &out.opt_out_all},
                      {"opt_out", &out.opt_out},
                      {"opt_in", &out.opt_in},
                      {"help", &out.help}};
  for (auto& [key, list] : lists) {
    std::vector<std::string> raw;
    if (!t.read(key, raw)) continue;
    std::vector<std::string> words;
    for (const auto& r : raw) {
      auto w = normalise_keyword(r);
      if (!w) {
        t.problem(key, fmt::format("\"{}\" must be 1..64 ASCII letters, digits, apostrophes and "
                                   "spaces, accent-folded (ARRET, not ARR\u00caT)", r),
                  t.get(key));
      } else if (std::find(words.begin(), words.end(), *w) == words.end()) {
        words.push_back(std::move(*w));
      }
    }
    if (words.size() > 200)
      t.problem(key, "must have at most 200 keywords", t.get(key));
    *list = std::move(words);
  }
  // A body must land in one class only.
  for (std::size_t i = 0; i < std::size(lists); ++i)
    for (std::size_t j = i + 1; j < std::size(lists); ++j)
      for (const auto& w : *lists[j].list)
        if (std::find(lists[i].list->begin(), lists[i].list->end(), w) != lists[i].list->end())
          t.problem(lists[j].key, fmt::format("\"{}\" is also in {}", w, lists[i].key),
                    t.get(lists[j].key) ? t.get(lists[j].key) : t.get(lists[i].key));
  t.finish();
}

std::string derive_policy_version(const policy_settings& p) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, describe_purpose(p.marketing));
  h = fnv1a(h, describe_purpose(p.informational));
  h = fnv1a(h, describe_week(p.federal));
  h = fnv1a(h, describe_week(p.canada));
  for (const auto& [region, ww] : p.regions) h = fnv1a(h, region + describe_week(ww));
  for (const auto& z : p.unknown_zone_fallback) h = fnv1a(h, z + ",");
  for (const auto& r : p.sunday_ban) h = fnv1a(h, r + ",");
  for (const auto& [day, regions] : p.holidays) {
    h = fnv1a(h, date::format("%F", date::sys_days(day)));
    for (const auto& r : regions) h = fnv1a(h, r + ",");
  }
  for (const auto& cap : p.frequency_caps) {
    for (const auto& r : cap.states) h = fnv1a(h, r + ",");
    h = fnv1a(h, fmt::format("{}/{}", cap.max, cap.window_hours));
  }
  return fmt::format("p-{:016x}", h);
}

}  // namespace stopgate::config::detail
