// Loading valid configurations: embedded defaults, the example file, paths, lookups, reload.
#include "config/defaults.hpp"
#include "config/load.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace stopgate::config {
namespace {

using test::load_ok;
using test::options_with;

TEST(ConfigDefaults, EmbeddedDefaultsMatchSpecSection1) {
  settings_ptr s = embedded_defaults(options_with({}, "/srv/gw"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->origin, "embedded defaults");
  EXPECT_EQ(s->server.data_dir, "/srv/gw/var");
  EXPECT_EQ(s->server.instance, "gw1");
  EXPECT_EQ(s->server.busy_poll_us, 100u);
  EXPECT_TRUE(s->redis.managed());
  EXPECT_EQ(s->redis.managed_dir, "/srv/gw/var/redis");
  ASSERT_TRUE(s->api.listen);
  EXPECT_EQ(s->api.listen->to_string(), "127.0.0.1:7600");
  ASSERT_TRUE(s->http.listen);
  EXPECT_EQ(s->http.listen->to_string(), "127.0.0.1:7601");
  EXPECT_EQ(s->evidence.dir, "/srv/gw/var/evidence");
  // No environment needed: the HMAC key lives in a file the evidence log creates.
  EXPECT_TRUE(s->evidence.hmac_key.empty());
  EXPECT_EQ(s->evidence.hmac_key_file, "/srv/gw/var/evidence.key");

  const carrier_settings* sandbox = s->carrier("sandbox");
  ASSERT_NE(sandbox, nullptr);
  EXPECT_EQ(sandbox->type, carrier_type::sandbox);
  EXPECT_EQ(sandbox->creds<sandbox_credentials>().outbox, "/srv/gw/var/outbox.jsonl");

  ASSERT_EQ(s->senders.size(), 1u);
  EXPECT_EQ(s->sole_sender(), s->sender("default"));
  EXPECT_EQ(s->sender("default")->route, std::vector<std::string>{"sandbox"});
  EXPECT_EQ(s->sender_for_number("+15005550006"), s->sender("default"));

  ASSERT_NE(s->list("internal"), nullptr);
  EXPECT_EQ(s->list("internal")->reason, "internal_dnc");
  EXPECT_FALSE(s->list("internal")->required);
  EXPECT_EQ(s->list("federal"), nullptr);
  EXPECT_TRUE(s->api_keys.empty());
}

TEST(ConfigDefaults, DefaultPolicyIsTheSpecPolicy) {
  settings_ptr s = embedded_defaults(options_with());
  const policy_settings& p = s->policy;
  EXPECT_EQ(p.marketing.on_store_unavailable, failure_mode::deny);
  EXPECT_EQ(p.informational.on_store_unavailable, failure_mode::deny);
  EXPECT_TRUE(p.marketing.require_consent);
  EXPECT_EQ(p.marketing.sms, consent_level::express_written);
  EXPECT_EQ(p.marketing.voice_manual, consent_level::none);
  EXPECT_FALSE(p.informational.require_consent);

  auto hm = [](int h, int m) { return minute_of_day{std::uint16_t(h * 60 + m)}; };
  EXPECT_EQ(p.federal.on(date::Monday), (time_window{hm(8, 0), hm(21, 0)}));
  EXPECT_EQ(p.canada.on(date::Friday), (time_window{hm(9, 0), hm(21, 30)}));
  EXPECT_EQ(p.canada.on(date::Sunday), (time_window{hm(10, 0), hm(18, 0)}));
  for (auto st : {"FL", "OK", "MD", "WA", "MA"})
    EXPECT_EQ(p.window_for(st, false).on(date::Wednesday), (time_window{hm(8, 0), hm(20, 0)}))
        << st;
  EXPECT_EQ(p.window_for("CT", false).on(date::Monday), (time_window{hm(9, 0), hm(20, 0)}));
  EXPECT_EQ(p.window_for("TX", false).on(date::Saturday), (time_window{hm(9, 0), hm(21, 0)}));
  EXPECT_EQ(p.window_for("TX", false).on(date::Sunday), (time_window{hm(12, 0), hm(21, 0)}));
  EXPECT_EQ(p.window_for("KY", false).on(date::Monday), (time_window{hm(10, 0), hm(21, 0)}));
  EXPECT_EQ(p.window_for("RI", false).on(date::Tuesday), (time_window{hm(9, 0), hm(18, 0)}));
  EXPECT_EQ(p.window_for("RI", false).on(date::Saturday), (time_window{hm(10, 0), hm(17, 0)}));
  EXPECT_FALSE(p.window_for("RI", false).on(date::Sunday).has_value());
  EXPECT_EQ(p.window_for("NY", false), p.federal);
  EXPECT_EQ(p.window_for("ON", true), p.canada);

  EXPECT_EQ(p.sunday_ban, (std::vector<std::string>{"AL", "LA", "MS", "RI", "UT"}));
  ASSERT_EQ(p.frequency_caps.size(), 1u);
  EXPECT_EQ(p.frequency_caps[0], (frequency_cap{{"FL", "OK", "MD"}, 3, 24}));
  EXPECT_TRUE(p.version.starts_with("p-"));
  EXPECT_EQ(p.version.size(), 18u);
}

TEST(ConfigDefaults, HolidayCalendarShiftsAreOnTheRightWeekdays) {
  policy_settings p = default_policy();
  auto regions = [&](int y, unsigned m, unsigned d) {
    auto it = p.holidays.find(date::year{y} / date::month{m} / date::day{d});
    return it == p.holidays.end() ? std::vector<std::string>{} : it->second;
  };
  auto weekday = [](int y, unsigned m, unsigned d) {
    return date::weekday{date::sys_days{date::year{y} / date::month{m} / date::day{d}}};
  };
  // Floating holidays land on their weekday.
  EXPECT_EQ(weekday(2026, 1, 19), date::Monday);   // MLK
  EXPECT_EQ(weekday(2026, 5, 25), date::Monday);   // Memorial Day
  EXPECT_EQ(weekday(2026, 11, 26), date::Thursday);  // Thanksgiving
  EXPECT_EQ(weekday(2027, 5, 31), date::Monday);
  EXPECT_EQ(weekday(2027, 11, 25), date::Thursday);
  // AL: Saturday -> Friday; AL and MS: Sunday -> Monday.
  EXPECT_EQ(weekday(2026, 7, 4), date::Saturday);
  EXPECT_EQ(regions(2026, 7, 3), std::vector<std::string>{"AL"});
  EXPECT_EQ(weekday(2027, 7, 4), date::Sunday);
  EXPECT_EQ(regions(2027, 7, 5), (std::vector<std::string>{"AL", "MS"}));
  EXPECT_EQ(regions(2027, 12, 31), std::vector<std::string>{"AL"});  // 2028-01-01 is Saturday
  EXPECT_EQ(regions(2026, 1, 8), std::vector<std::string>{"LA"});
  EXPECT_EQ(regions(2026, 12, 25).size(), 6u);
  EXPECT_TRUE(regions(2026, 12, 26).empty());
  for (auto& [day, rs] : p.holidays) EXPECT_TRUE(day.ok());
}

TEST(ConfigExample, ExampleFileLoadsAndDocumentsTheDefaults) {
  auto path = std::filesystem::path(STOPGATE_SOURCE_DIR) / "config/stopgate.example.toml";
  load_result r = load_file(path, options_with({}, "/srv/gw"));
  ASSERT_TRUE(r) << r.error().to_string();
  const settings& ex = **r;
  // The example shows the built-in tables: loading it changes nothing in the policy.
  policy_settings builtin = default_policy();
  EXPECT_EQ(ex.policy.federal, builtin.federal);
  EXPECT_EQ(ex.policy.canada, builtin.canada);
  EXPECT_EQ(ex.policy.regions, builtin.regions);
  EXPECT_EQ(ex.policy.holidays, builtin.holidays);
  EXPECT_EQ(ex.policy.frequency_caps, builtin.frequency_caps);
  EXPECT_EQ(ex.policy.sunday_ban, builtin.sunday_ban);
  EXPECT_EQ(ex.policy.unknown_zone_fallback, builtin.unknown_zone_fallback);
  EXPECT_EQ(ex.policy.version, embedded_defaults(options_with())->policy.version);
  keyword_settings kw = default_keywords();
  EXPECT_EQ(ex.keywords.opt_out, kw.opt_out);
  EXPECT_EQ(ex.keywords.opt_out_all, kw.opt_out_all);
  EXPECT_EQ(ex.keywords.opt_in, kw.opt_in);
  EXPECT_EQ(ex.keywords.help, kw.help);
  // ... and the embedded process defaults.
  settings_ptr def = embedded_defaults(options_with({}, "/srv/gw"));
  EXPECT_EQ(ex.server.data_dir, def->server.data_dir);
  EXPECT_EQ(ex.api.max_line_bytes, def->api.max_line_bytes);
  EXPECT_EQ(ex.http.replay_window_s, def->http.replay_window_s);
  EXPECT_EQ(ex.sender("default")->optout_reply, def->sender("default")->optout_reply);
  EXPECT_EQ(ex.carrier("sandbox")->default_country, def->carrier("sandbox")->default_country);
  EXPECT_EQ(ex.evidence.hmac_key.describe(), "env:STOPGATE_EVIDENCE_KEY");
  const list_settings* federal = ex.list("federal");
  ASSERT_NE(federal, nullptr);
  EXPECT_EQ(federal->reason, "federal_dnc");
  EXPECT_EQ(federal->covers.what, list_coverage::scope::us);
}

TEST(ConfigKeywords, SpecDefaultsAndPerSenderOverride) {
  settings_ptr s = load_ok(test::k_minimal + R"(
[senders.beta]
route = ["sandbox"]
[senders.beta.keywords]
mode = "strict"
languages = ["en"]
help = ["help", "  info  me "]
)");
  ASSERT_TRUE(s);
  const auto& g = s->keywords;
  EXPECT_EQ(g.mode, keyword_mode::fcc2024);
  EXPECT_EQ(g.phrase_max_words, 8u);
  EXPECT_EQ(g.opt_out, (std::vector<std::string>{"STOP", "END", "QUIT", "CANCEL", "UNSUBSCRIBE",
                                                 "REVOKE", "OPTOUT", "OPT OUT", "REMOVE",
                                                 "PARAR", "ALTO", "BAJA", "CANCELAR", "ARRET"}));
  EXPECT_EQ(g.opt_out_all, (std::vector<std::string>{"STOPALL", "STOP ALL"}));
  EXPECT_EQ(g.opt_in, (std::vector<std::string>{"START", "UNSTOP", "YES", "SUBSCRIBE"}));
  EXPECT_EQ(g.help, (std::vector<std::string>{"HELP", "INFO", "AYUDA"}));
  EXPECT_EQ(s->sender("acme")->keywords.opt_out, g.opt_out);
  const auto& b = s->sender("beta")->keywords;
  EXPECT_EQ(b.mode, keyword_mode::strict);
  EXPECT_EQ(b.help, (std::vector<std::string>{"HELP", "INFO ME"}));  // normalised
  EXPECT_EQ(std::count(b.opt_out.begin(), b.opt_out.end(), "PARAR"), 0);
  EXPECT_EQ(b.phrase_max_words, 8u);
}

TEST(ConfigSenders, RepliesSubstituteTheDisplayName) {
  settings_ptr s = load_ok(R"(
[carriers.sandbox]
type = "sandbox"
[senders.acme]
display_name = "Acme Dental"
route = ["sandbox"]
help_reply = "{name} help: call 415-555-2671."
)");
  ASSERT_TRUE(s);
  const sender_settings* a = s->sender("acme");
  EXPECT_EQ(a->help_reply, "Acme Dental help: call 415-555-2671.");
  EXPECT_EQ(a->optout_reply,
            "You are unsubscribed from Acme Dental. No more messages will be sent. Reply HELP "
            "for help.");
  EXPECT_TRUE(a->numbers.empty());
}

TEST(ConfigCarriers, EveryTypeWithCredentialsAndEnvSecrets) {
  auto opts = options_with({{"TW", "tw-token"}, {"TX_KEY", "KEYxyz"}, {"HDR", "Bearer abc"}});
  settings_ptr s = load_ok(test::k_minimal + R"(
[http]
public_url = "https://gw.example.com/"
[carriers.twilio]
type = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "env:TW"
rate_per_second = 250
[carriers.telnyx]
type = "telnyx"
api_key = "env:TX_KEY"
public_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
base_url = "http://127.0.0.1:9000/"
[carriers.bw]
type = "bandwidth"
account_id = "9900000"
application_id = "app"
token = "t"
webhook_username = "u"
webhook_password = "p"
[carriers.vonage]
type = "vonage"
api_key = "k"
api_secret = "s"
signature_secret = "sig"
signature_method = "sha512"
default_country = ""
[carriers.plivo]
type = "plivo"
auth_id = "MA123"
auth_token = "pt"
[carriers.sinch]
type = "sinch"
service_plan_id = "plan"
api_token = "at"
webhook_secret = "ws"
[carriers.relay]
type = "http"
url = "https://relay.example.com/send"
[carriers.relay.headers]
Authorization = "env:HDR"
)",
                           opts);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->http.public_url, "https://gw.example.com");
  const carrier_settings* tw = s->carrier("twilio");
  ASSERT_NE(tw, nullptr);
  EXPECT_EQ(tw->base_url, "https://api.twilio.com");
  EXPECT_EQ(tw->rate_per_second, 250u);
  EXPECT_EQ(tw->max_in_flight, 64u);
  EXPECT_EQ(tw->creds<twilio_credentials>().auth_token.reveal(), "tw-token");
  EXPECT_EQ(tw->creds<twilio_credentials>().auth_token.describe(), "env:TW");
  const carrier_settings* tx = s->carrier("telnyx");
  EXPECT_EQ(tx->base_url, "http://127.0.0.1:9000");
  EXPECT_EQ(tx->creds<telnyx_credentials>().public_key.size(), 32u);
  EXPECT_EQ(tx->creds<telnyx_credentials>().public_key[31], '\x1f');
  EXPECT_EQ(s->carrier("bw")->creds<bandwidth_credentials>().token.reveal(), "t");
  EXPECT_EQ(s->carrier("vonage")->creds<vonage_credentials>().signature_method,
            vonage_signature_method::sha512);
  // Bare numbers in webhooks: NANP unless the carrier is said to send international ones only.
  EXPECT_EQ(tw->default_country, "1");
  EXPECT_EQ(s->carrier("vonage")->default_country, "");
  EXPECT_EQ(s->carrier("sinch")->base_url, "https://us.sms.api.sinch.com");
  const auto& relay = s->carrier("relay")->creds<http_credentials>();
  ASSERT_EQ(relay.headers.size(), 1u);
  EXPECT_EQ(relay.headers[0].second.reveal(), "Bearer abc");
  EXPECT_EQ(s->carrier("nope"), nullptr);
}

TEST(ConfigLists, ReasonsCoverageAndKindDefaults) {
  settings_ptr s = load_ok(test::k_minimal + R"(
[lists.federal]
[lists."state:TX"]
[lists.canada]
[lists.internal]
[lists.litigator]
[lists.acme_partners]
kind = "registry"
max_age_days = 7
)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->list("federal")->reason, "federal_dnc");
  EXPECT_EQ(s->list("federal")->ebr_inquiry_days, 90u);
  EXPECT_TRUE(s->list("federal")->required);
  EXPECT_TRUE(s->list("federal")->blocks(purpose::marketing));
  EXPECT_FALSE(s->list("federal")->blocks(purpose::informational));
  const list_settings* tx = s->list("state:TX");
  EXPECT_EQ(tx->reason, "state_dnc:TX");
  EXPECT_EQ(tx->covers, (list_coverage{list_coverage::scope::region, "TX"}));
  EXPECT_EQ(s->list("canada")->reason, "canada_dncl");
  EXPECT_EQ(s->list("canada")->ebr_purchase_days, 540u);
  EXPECT_EQ(s->list("canada")->ebr_inquiry_days, 180u);
  EXPECT_EQ(s->list("canada")->covers.what, list_coverage::scope::canada);
  EXPECT_EQ(s->list("internal")->kind, list_kind::internal);
  EXPECT_EQ(s->list("internal")->reason, "internal_dnc");
  EXPECT_FALSE(s->list("internal")->exempt_with_consent);
  EXPECT_EQ(s->list("internal")->max_age_days, 0u);
  EXPECT_EQ(s->list("litigator")->reason, "litigator");
  EXPECT_FALSE(s->list("litigator")->required);
  EXPECT_EQ(s->list("acme_partners")->reason, "registry_dnc:acme_partners");
  EXPECT_EQ(s->list("acme_partners")->max_age_days, 7u);
  EXPECT_EQ(s->list("acme_partners")->covers.what, list_coverage::scope::all);
}

TEST(ConfigPolicy, FileTablesReplaceBuiltInOnes) {
  settings_ptr s = load_ok(test::k_minimal + R"(
[policy.marketing]
on_store_unavailable = "allow"
[policy.windows]
federal = { all = "08:00-21:00", sun = "none" }
NY = { weekdays = "10:00-20:00" }
[policy.holidays]
"2026-12-24" = ["NY"]
[[policy.frequency_caps]]
states = ["NY"]
max = 2
window_hours = 48
)");
  ASSERT_TRUE(s);
  const policy_settings& p = s->policy;
  EXPECT_EQ(p.marketing.on_store_unavailable, failure_mode::allow);
  EXPECT_FALSE(p.federal.on(date::Sunday));
  ASSERT_EQ(p.regions.size(), 1u);
  // Days NY leaves out take the federal window.
  EXPECT_EQ(p.window_for("NY", false).on(date::Saturday), p.federal.on(date::Saturday));
  EXPECT_EQ(p.window_for("NY", false).on(date::Monday)->start.minutes, 600);
  EXPECT_EQ(p.window_for("FL", false), p.federal);  // the built-in FL entry is gone
  ASSERT_EQ(p.holidays.size(), 1u);
  EXPECT_EQ(p.frequency_caps[0].window_hours, 48u);
  // A different policy gets a different derived version; an explicit one is kept.
  EXPECT_NE(p.version, embedded_defaults(options_with())->policy.version);
  settings_ptr v = load_ok(test::k_minimal + "[policy]\nversion = \"2026-03\"\n");
  EXPECT_EQ(v->policy.version, "2026-03");
}

TEST(ConfigPaths, RelativePathsResolveAgainstDataDir) {
  settings_ptr s = load_ok(test::k_minimal + R"(
[server]
data_dir = "state/../data"
[api]
unix_socket = "run/api.sock"
[evidence]
dir = "/var/lib/stopgate-evidence"
hmac_key = "file:keys/evidence.key"
[carriers.sandbox2]
type = "sandbox"
outbox = "out/box.jsonl"
)", options_with({}, "/home/ops"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->server.data_dir, "/home/ops/data");
  EXPECT_EQ(s->api.unix_socket, "/home/ops/data/run/api.sock");
  EXPECT_EQ(s->evidence.dir, "/var/lib/stopgate-evidence");  // absolute stays
  EXPECT_EQ(s->evidence.hmac_key_file, "/home/ops/data/keys/evidence.key");
  EXPECT_EQ(s->carrier("sandbox2")->creds<sandbox_credentials>().outbox,
            "/home/ops/data/out/box.jsonl");
  EXPECT_EQ(resolve_path(*s, "x/y.txt"), "/home/ops/data/x/y.txt");
  EXPECT_EQ(resolve_path(*s, "/etc/z"), "/etc/z");
}

TEST(ConfigReload, ReloadBuildsANewObjectAndLeavesTheOldOneAlone) {
  stopgate::test::temp_dir dir;
  auto file = dir.write("gw.toml", test::k_minimal + "[api]\nmax_batch = 10\n");
  load_result first = load_file(file, options_with());
  ASSERT_TRUE(first);
  settings_ptr old = *first;

  dir.write("gw.toml", test::k_minimal + "[api]\nmax_batch = 20\n");
  load_result second = load_file(file, options_with());
  ASSERT_TRUE(second);
  EXPECT_NE(old.get(), second->get());
  EXPECT_EQ(old->api.max_batch, 10u);
  EXPECT_EQ((*second)->api.max_batch, 20u);

  // An invalid new file is refused; whoever holds the old object keeps it.
  dir.write("gw.toml", test::k_minimal + "[api]\nmax_batch = 0\n");
  load_result bad = load_file(file, options_with());
  EXPECT_FALSE(bad);
  EXPECT_EQ(old->api.max_batch, 10u);
}

TEST(ConfigReload, MissingFileIsOneProblem) {
  load_result r = load_file("/nonexistent/stopgate.toml", options_with());
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().items.size(), 1u);
  EXPECT_EQ(r.error().to_string(), "cannot read /nonexistent/stopgate.toml");
}

TEST(ConfigApiKeys, RolesAndDigests) {
  std::string digest(64, 'a');
  settings_ptr s = load_ok(test::k_minimal + "[[api_keys]]\nname = \"crm\"\nsha256 = \"" +
                           digest + "\"\nroles = [\"check\", \"send\"]\n");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->api_keys.size(), 1u);
  EXPECT_TRUE(s->api_keys[0].has(role::check));
  EXPECT_TRUE(s->api_keys[0].has(role::send));
  EXPECT_FALSE(s->api_keys[0].has(role::admin));
}

// A file others can read must not hold secrets: the daemon logs these lines at start.
TEST(ConfigSecrets, FilesHoldingSecretsThatOthersCanReadAreWarnedAbout) {
  stopgate::test::temp_dir dir;
  namespace fs = std::filesystem;
  const std::string inline_key = "[evidence]\nhmac_key = \"" + std::string(40, 'h') + "\"\n";
  auto load = [&](const fs::path& p) {
    auto r = load_file(p, options_with({{"TOKEN", "t0ken"}}, dir.path()));
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? secret_exposure_warnings(**r) : std::vector<std::string>{"load failed"};
  };
  const auto inline_file =
      dir.write("inline.toml",
                test::k_minimal + inline_key + "[redis]\nurl = \"tcp://:pw@127.0.0.1:6379\"\n");
  fs::permissions(inline_file, fs::perms(0644), fs::perm_options::replace);
  auto w = load(inline_file);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find(inline_file.string() + " is readable by other users"), std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("(redis.url, evidence.hmac_key)"), std::string::npos) << w[0];
  fs::permissions(inline_file, fs::perms(0640), fs::perm_options::replace);
  EXPECT_TRUE(load(inline_file).empty());

  // Secrets from the environment: the file itself holds none.
  const auto env_file = dir.write(
      "env.toml", test::k_minimal + "[evidence]\nhmac_key = \"env:STOPGATE_EVIDENCE_KEY\"\n");
  fs::permissions(env_file, fs::perms(0644), fs::perm_options::replace);
  EXPECT_TRUE(load(env_file).empty());

  // A file: key is a secret file of its own.
  const auto key_file = dir.write("evidence.key", std::string(64, 'a') + "\n");
  const auto file_file =
      dir.write("file.toml", test::k_minimal + "[server]\ndata_dir = \"" + dir.path().string() +
                                 "\"\n[evidence]\nhmac_key = \"file:evidence.key\"\n");
  fs::permissions(file_file, fs::perms(0644), fs::perm_options::replace);
  fs::permissions(key_file, fs::perms(0644), fs::perm_options::replace);
  w = load(file_file);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find(key_file.string() + " (evidence.hmac_key) is readable by other users"),
            std::string::npos)
      << w[0];
  fs::permissions(key_file, fs::perms(0600), fs::perm_options::replace);
  EXPECT_TRUE(load(file_file).empty());
}

}  // namespace
}  // namespace stopgate::config
