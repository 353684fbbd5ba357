#include "config/defaults.hpp"

#include <algorithm>
#include <array>

namespace stopgate::config {
namespace {

struct language_keywords {
  std::string_view language;
  std::vector<std::string_view> opt_out, opt_out_all, opt_in, help;
};

// SPEC section 6: the union of en, es and fr is exactly the default table.
const std::array<language_keywords, 3>& builtin_keywords() {
  static const std::array<language_keywords, 3> table{{
      {"en",
       {"STOP", "END", "QUIT", "CANCEL", "UNSUBSCRIBE", "REVOKE", "OPTOUT", "OPT OUT", "REMOVE"},
       {"STOPALL", "STOP ALL"},
       {"START", "UNSTOP", "YES", "SUBSCRIBE"},
       {"HELP", "INFO"}},
      {"es", {"PARAR", "ALTO", "BAJA", "CANCELAR"}, {}, {}, {"AYUDA"}},
      {"fr", {"ARRET"}, {}, {}, {}},
  }};
  return table;
}

void append_unique(std::vector<std::string>& out, const std::vector<std::string_view>& words) {
  for (auto w : words)
    if (std::find(out.begin(), out.end(), w) == out.end()) out.emplace_back(w);
}

constexpr std::string_view k_us_regions[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP"};
constexpr std::string_view k_ca_regions[] = {"AB", "BC", "MB", "NB", "NL", "NS", "NT",
                                             "NU", "ON", "PE", "QC", "SK", "YT"};

time_window w(std::uint16_t from_h, std::uint16_t from_m, std::uint16_t to_h,
              std::uint16_t to_m) {
  return {minute_of_day{std::uint16_t(from_h * 60 + from_m)},
          minute_of_day{std::uint16_t(to_h * 60 + to_m)}};
}

constexpr date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year{y} / date::month{m} / date::day{d};
}

}  // namespace

keyword_settings default_keywords(const std::vector<std::string>& languages) {
  keyword_settings k;
  k.languages = languages;
  for (const auto& lang : builtin_keywords()) {
    if (std::find(languages.begin(), languages.end(), lang.language) == languages.end())
      continue;
    append_unique(k.opt_out, lang.opt_out);
    append_unique(k.opt_out_all, lang.opt_out_all);
    append_unique(k.opt_in, lang.opt_in);
    append_unique(k.help, lang.help);
  }
  return k;
}

policy_settings default_policy() {
  policy_settings p;
  p.informational.require_consent = false;
  p.informational.sms = consent_level::express;
  p.informational.voice_atds = consent_level::express;
  p.informational.voice_prerecorded = consent_level::express;
  p.informational.apply_calling_window = false;
  p.informational.apply_restricted_days = false;
  p.informational.apply_frequency_caps = false;

  p.federal = week_windows::every_day(w(8, 0, 21, 0));
  auto weekdays_weekends = [](time_window wd, std::optional<time_window> sat,
                              std::optional<time_window> sun) {
    week_windows ww = week_windows::every_day(wd);
    ww.days[6] = sat;
    ww.days[0] = sun;
    return ww;
  };
  p.canada = weekdays_weekends(w(9, 0, 21, 30), w(10, 0, 18, 0), w(10, 0, 18, 0));

  // SPEC section 5, then the stricter secondary-source states of rules.md section 4.
  for (auto st : {"FL", "OK", "MD", "WA", "MA", "AL", "LA", "MS"})
    p.regions[st] = week_windows::every_day(w(8, 0, 20, 0));
  p.regions["CT"] = week_windows::every_day(w(9, 0, 20, 0));
  p.regions["NV"] = week_windows::every_day(w(9, 0, 20, 0));
  for (auto st : {"MI", "MN", "NM"}) p.regions[st] = week_windows::every_day(w(9, 0, 21, 0));
  p.regions["TX"] = weekdays_weekends(w(9, 0, 21, 0), w(9, 0, 21, 0), w(12, 0, 21, 0));
  p.regions["KY"] = week_windows::every_day(w(10, 0, 21, 0));
  p.regions["RI"] = weekdays_weekends(w(9, 0, 18, 0), w(10, 0, 17, 0), std::nullopt);
  p.regions["PA"] = weekdays_weekends(w(8, 0, 21, 0), w(8, 0, 21, 0), w(13, 30, 21, 0));

  p.unknown_zone_fallback = {"America/New_York", "America/Chicago", "America/Denver",
                             "America/Los_Angeles"};
  p.sunday_ban = {"AL", "LA", "MS", "RI", "UT"};

  // US federal holidays in the holiday-ban states (rules.md section 4), both the date itself
  // and, where a state moves it, the observed day: AL moves Saturday -> Friday and
  // Sunday -> Monday, MS Sunday -> Monday. LA adds 8 January.
  const std::vector<std::string> all{"AL", "LA", "MS", "PA", "RI", "UT"};
  for (auto d : {ymd(2026, 1, 1), ymd(2026, 1, 19), ymd(2026, 2, 16), ymd(2026, 5, 25),
                 ymd(2026, 6, 19), ymd(2026, 7, 4), ymd(2026, 9, 7), ymd(2026, 10, 12),
                 ymd(2026, 11, 11), ymd(2026, 11, 26), ymd(2026, 12, 25), ymd(2027, 1, 1),
                 ymd(2027, 1, 18), ymd(2027, 2, 15), ymd(2027, 5, 31), ymd(2027, 6, 19),
                 ymd(2027, 7, 4), ymd(2027, 9, 6), ymd(2027, 10, 11), ymd(2027, 11, 11),
                 ymd(2027, 11, 25), ymd(2027, 12, 25)})
    p.holidays[d] = all;
  p.holidays[ymd(2026, 1, 8)] = {"LA"};
  p.holidays[ymd(2026, 7, 3)] = {"AL"};    // 4 July 2026 is a Saturday
  p.holidays[ymd(2027, 1, 8)] = {"LA"};
  p.holidays[ymd(2027, 6, 18)] = {"AL"};   // 19 June 2027 is a Saturday
  p.holidays[ymd(2027, 7, 5)] = {"AL", "MS"};  // 4 July 2027 is a Sunday
  p.holidays[ymd(2027, 12, 24)] = {"AL"};  // 25 December 2027 is a Saturday
  p.holidays[ymd(2027, 12, 31)] = {"AL"};  // 1 January 2028 is a Saturday

  p.frequency_caps = {frequency_cap{{"FL", "OK", "MD"}, 3, 24}};
  return p;
}

std::string_view default_base_url(carrier_type t) noexcept {
  switch (t) {
    case carrier_type::twilio: return "https://api.twilio.com";
    case carrier_type::telnyx: return "https://api.telnyx.com";
    case carrier_type::bandwidth: return "https://messaging.bandwidth.com";
    case carrier_type::vonage: return "https://rest.nexmo.com";
    case carrier_type::plivo: return "https://api.plivo.com";
    case carrier_type::sinch: return "https://us.sms.api.sinch.com";
    case carrier_type::http:
    case carrier_type::sandbox: return "";
  }
  return "";
}

bool is_region_code(std::string_view code) noexcept {
  return std::find(std::begin(k_us_regions), std::end(k_us_regions), code) !=
             std::end(k_us_regions) ||
         is_canadian_region(code);
}

bool is_canadian_region(std::string_view code) noexcept {
  return std::find(std::begin(k_ca_regions), std::end(k_ca_regions), code) !=
         std::end(k_ca_regions);
}

const std::string_view k_embedded_toml = R"(# stopgate embedded defaults (used without --config).
[evidence]
hmac_key = "file:evidence.key"

[carriers.sandbox]
type = "sandbox"

[senders.default]
numbers = ["+15005550006"]
route = ["sandbox"]

[lists.internal]
kind = "internal"
)";

}  // namespace stopgate::config
