// Invalid configurations: every class of problem names the key path and what is allowed,
// and all problems of a file are reported together.
#include "config/load.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace stopgate::config {
namespace {

using test::k_minimal;
using test::load_bad;
using test::options_with;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigErrors, UnknownKeyAtTopLevelListsTheTables) {
  std::string r = load_bad(k_minimal + "[servr]\nthreads = 2\n");
  EXPECT_THAT(r, HasSubstr("servr: unknown key (allowed: server, api, http, redis, evidence, "
                           "policy, keywords, carriers, senders, lists, api_keys, dialer or queue)"));
}

TEST(ConfigErrors, UnknownNestedKeysNameTheirPath) {
  std::string r = load_bad(k_minimal + R"(
[api]
max_lines = 5
[carriers.sandbox2]
type = "sandbox"
auth_token = "x"
[policy.marketing]
consent = "none"
)");
  EXPECT_THAT(r, HasSubstr("api.max_lines: unknown key (allowed: listen, unix_socket"));
  EXPECT_THAT(r, HasSubstr("carriers.sandbox2.auth_token: unknown key"));
  EXPECT_THAT(r, HasSubstr("policy.marketing.consent: unknown key"));
}

TEST(ConfigErrors, WrongTypes) {
  std::string r = load_bad(k_minimal + R"(
[server]
mask_numbers = "yes"
threads = "4"
instance = 7
busy_poll_us = 20000
)");
  EXPECT_THAT(r, HasSubstr("server.mask_numbers: must be true or false (got string)"));
  EXPECT_THAT(r, HasSubstr("server.threads: must be an integer in 0..256"));
  EXPECT_THAT(r, HasSubstr("server.instance: must be a string (got integer)"));
  EXPECT_THAT(r, HasSubstr("server.busy_poll_us: must be an integer in 0..10000"));
}

TEST(ConfigErrors, OutOfRangeNamesTheRange) {
  std::string r = load_bad(k_minimal + R"(
[carriers.twilio]
type = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "t"
rate_per_second = 0
[http]
public_url = "https://gw.example.com"
max_body_bytes = 10
)");
  EXPECT_THAT(r, HasSubstr("carriers.twilio.rate_per_second: must be an integer in 1..100000"));
  EXPECT_THAT(r, HasSubstr("http.max_body_bytes: must be an integer in 1024..67108864"));
}

TEST(ConfigErrors, BadEnumValuesListTheAllowedOnes) {
  std::string r = load_bad(k_minimal + R"(
[server]
log_level = "verbose"
[keywords]
mode = "loose"
[policy.informational]
on_store_unavailable = "retry"
[carriers.x]
type = "smtp"
)");
  EXPECT_THAT(r, HasSubstr("server.log_level: must be one of trace, debug, info, warn, error, "
                           "critical or off"));
  EXPECT_THAT(r, HasSubstr("keywords.mode: must be one of fcc2024 or strict"));
  EXPECT_THAT(r, HasSubstr("policy.informational.on_store_unavailable: must be one of deny or "
                           "allow"));
  EXPECT_THAT(r, HasSubstr("carriers.x.type: must be one of twilio, telnyx, bandwidth, vonage, "
                           "plivo, sinch, http or sandbox"));
}

TEST(ConfigErrors, BadTimesAndDates) {
  std::string r = load_bad(k_minimal + R"(
[policy.windows]
federal = "8:00-21:00"
TX = { all = "09:00-21:00", sun = "21:00-12:00" }
ZZ = "08:00-20:00"
[policy.holidays]
"2026-02-30" = ["AL"]
"2026-03-02" = ["XX"]
)");
  EXPECT_THAT(r, HasSubstr("policy.windows.federal: must be \"HH:MM-HH:MM\""));
  EXPECT_THAT(r, HasSubstr("policy.windows.TX.sun: must be \"HH:MM-HH:MM\" (start before end)"));
  EXPECT_THAT(r, HasSubstr("policy.windows.ZZ: unknown key"));
  EXPECT_THAT(r, HasSubstr("policy.holidays.2026-02-30: must be a date \"YYYY-MM-DD\""));
  EXPECT_THAT(r, HasSubstr("policy.holidays.2026-03-02: \"XX\" is not a US state"));
}

TEST(ConfigErrors, MissingCredentialsAreNamed) {
  std::string r = load_bad(k_minimal + R"(
[http]
public_url = "https://gw.example.com"
[carriers.twilio]
type = "twilio"
[carriers.telnyx]
type = "telnyx"
api_key = "k"
public_key = "not base64!"
[carriers.bw]
type = "bandwidth"
account_id = "1"
application_id = "a"
username = "u"
webhook_username = "w"
webhook_password = "p"
)");
  EXPECT_THAT(r, HasSubstr("carriers.twilio.account_sid: is required"));
  EXPECT_THAT(r, HasSubstr("carriers.twilio.auth_token: is required"));
  EXPECT_THAT(r, HasSubstr("carriers.telnyx.public_key: must be the base64 Ed25519 public key"));
  EXPECT_THAT(r, HasSubstr("carriers.bw.password: username and password must be set together"));
}

TEST(ConfigErrors, DefaultCountryIsNanpOrNone) {
  std::string r = load_bad(k_minimal + R"(
[carriers.a]
type = "sandbox"
default_country = "44"
[carriers.b]
type = "sandbox"
default_country = "+1"
[carriers.c]
type = "sandbox"
default_country = 1
)");
  EXPECT_THAT(r, HasSubstr("carriers.a.default_country: must be \"1\" (bare 10-digit numbers are "
                           "NANP numbers) or \"\" (the carrier sends international numbers only)"));
  EXPECT_THAT(r, HasSubstr("carriers.b.default_country: must be \"1\""));
  EXPECT_THAT(r, HasSubstr("carriers.c.default_country: must be a string (got integer)"));
}

TEST(ConfigErrors, EnvSecretPresentAndMissing) {
  std::string text = k_minimal + R"(
[http]
public_url = "https://gw.example.com"
[carriers.twilio]
type = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "env:TWILIO_AUTH_TOKEN"
)";
  test::load_ok(text, options_with({{"TWILIO_AUTH_TOKEN", "secret"}}));
  std::string r = load_bad(text, options_with());
  EXPECT_THAT(r, HasSubstr("carriers.twilio.auth_token: environment variable TWILIO_AUTH_TOKEN "
                           "is not set"));
  EXPECT_THAT(r, Not(HasSubstr("secret")));
}

TEST(ConfigErrors, EnvSecretsOnlyWhenNeeded) {
  // Optional secrets left empty, and the evidence key given as a file, need no environment.
  load_options no_env;
  no_env.getenv = [](const std::string&) { return std::nullopt; };
  no_env.cwd = "/srv";
  load_result r = load_string(k_minimal + "[evidence]\nhmac_key = \"file:ev.key\"\n"
                                          "encryption_key = \"\"\n",
                              "t.toml", no_env);
  EXPECT_TRUE(r) << r.error().to_string();
  // The evidence key defaults to env:STOPGATE_EVIDENCE_KEY.
  r = load_string(k_minimal, "t.toml", no_env);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().to_string(),
              HasSubstr("evidence.hmac_key: environment variable STOPGATE_EVIDENCE_KEY is not set"));
}

TEST(ConfigErrors, RouteNamingAnUnknownCarrier) {
  std::string r = load_bad(R"(
[carriers.sandbox]
type = "sandbox"
[senders.acme]
route = ["sandbox", "twilo"]
)");
  EXPECT_EQ(r, "senders.acme.route: \"twilo\" is not a configured carrier (configured: sandbox)");
}

TEST(ConfigErrors, NumberOwnedByTwoSenders) {
  std::string r = load_bad(k_minimal + R"(
[senders.beta]
numbers = ["+14155552672", "+14155552671"]
route = ["sandbox"]
)");
  EXPECT_EQ(r, "senders.beta.numbers: \"+14155552671\" already belongs to sender acme");
}

TEST(ConfigErrors, NumbersMustBeE164) {
  std::string r = load_bad(R"(
[carriers.sandbox]
type = "sandbox"
[senders.acme]
numbers = ["4155552671"]
route = ["sandbox"]
)");
  EXPECT_THAT(r, HasSubstr("senders.acme.numbers: \"4155552671\" is not E.164"));
}

TEST(ConfigErrors, DuplicateApiKeyNameAndBadDigest) {
  std::string good(64, 'b');
  std::string r = load_bad(k_minimal + "[[api_keys]]\nname = \"crm\"\nsha256 = \"" + good +
                           "\"\nroles = [\"check\"]\n"
                           "[[api_keys]]\nname = \"crm\"\nsha256 = \"" +
                           std::string(64, 'B') + "\"\nroles = [\"root\"]\n");
  EXPECT_THAT(r, HasSubstr("api_keys[1].name: duplicate api key name \"crm\""));
  EXPECT_THAT(r, HasSubstr("api_keys[1].sha256: must be 64 lowercase hex digits"));
  EXPECT_THAT(r, HasSubstr("api_keys[1].roles: \"root\" is not check, send, consent or admin"));
}

TEST(ConfigErrors, AllProblemsAreReportedOneLineEach) {
  load_result r = load_string(R"(
[server]
threads = 1000
log_level = "loud"
[api]
listen = "nowhere"
[redis]
url = "redis://localhost:0"
[carriers.sandbox]
type = "sandbox"
[senders.acme]
route = ["missing"]
)",
                              "t.toml", options_with());
  ASSERT_FALSE(r);
  const auto& items = r.error().items;
  ASSERT_EQ(items.size(), 5u) << r.error().to_string();
  EXPECT_EQ(items[0].path, "server.threads");
  EXPECT_EQ(items[0].line, 3u);
  EXPECT_EQ(items[1].path, "server.log_level");
  EXPECT_EQ(items[2].path, "api.listen");
  EXPECT_EQ(items[3].path, "redis.url");
  EXPECT_EQ(items[4].path, "senders.acme.route");
  std::string report = r.error().to_string();
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 4);
  EXPECT_THAT(report, HasSubstr("server.threads: must be an integer in 0..256 (line 3)"));
}

TEST(ConfigErrors, CrossFieldRules) {
  std::string r = load_bad(k_minimal + R"(
[api]
listen = "127.0.0.1:7000"
tls_listen = "127.0.0.1:7443"
[http]
listen = "127.0.0.1:7000"
tls_cert = "/nonexistent/cert.pem"
[redis]
reconnect_min_ms = 9000
reconnect_max_ms = 1000
[carriers.plivo]
type = "plivo"
auth_id = "MA1"
auth_token = "t"
backoff_initial_ms = 500
backoff_max_ms = 100
)");
  EXPECT_THAT(r, HasSubstr("api.tls_listen: needs api.tls_cert and api.tls_key"));
  EXPECT_THAT(r, HasSubstr("http.listen: same address as api.listen (127.0.0.1:7000)"));
  EXPECT_THAT(r, HasSubstr("http.tls_key: tls_cert and tls_key must be set together"));
  EXPECT_THAT(r, HasSubstr("redis.reconnect_max_ms: must be >= redis.reconnect_min_ms"));
  EXPECT_THAT(r, HasSubstr("carriers.plivo.backoff_max_ms: must be >= backoff_initial_ms"));
  EXPECT_THAT(r, HasSubstr("http.public_url: is required by carrier plivo"));
}

TEST(ConfigErrors, TlsFilesMustBeReadable) {
  std::string r = load_bad(k_minimal + R"(
[api]
tls_listen = "127.0.0.1:7443"
tls_cert = "certs/none.pem"
tls_key = "certs/none.key"
)", options_with({}, "/nonexistent-root"));
  EXPECT_THAT(r, HasSubstr("api.tls_cert: cannot read \"/nonexistent-root/var/certs/none.pem\""));
  EXPECT_THAT(r, HasSubstr("api.tls_key: cannot read"));
}

// --check-config loads the certificate and key as the listeners will: a readable file that
// is not PEM, or a key of another certificate, is a problem here and not at start.
TEST(ConfigErrors, TlsMaterialIsLoadedNotOnlyRead) {
  stopgate::test::temp_dir dir;
  auto pair = [&](const std::string& name) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -keyout '" +
        (dir.path() / (name + ".key")).string() + "' -out '" +
        (dir.path() / (name + ".pem")).string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  };
  pair("one");
  pair("two");
  const auto garbage = dir.write(
      "garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  auto with = [&](const std::string& table, const std::string& cert, const std::string& key) {
    return k_minimal + "[" + table + "]\n" +
           (table == "api" ? "tls_listen = \"127.0.0.1:7443\"\n" : "") + "tls_cert = \"" +
           (dir.path() / cert).string() + "\"\ntls_key = \"" + (dir.path() / key).string() + "\"\n";
  };
  EXPECT_THAT(load_bad(with("http", "garbage.pem", "one.key")),
              HasSubstr("http.tls_cert: \"" + garbage.string() +
                        "\" is not a usable PEM certificate chain"));
  EXPECT_THAT(load_bad(with("api", "garbage.pem", "one.key")), HasSubstr("api.tls_cert: "));
  // A certificate where the key should be, and the key of another certificate.
  EXPECT_THAT(load_bad(with("http", "one.pem", "one.pem")), HasSubstr("http.tls_key: "));
  EXPECT_THAT(load_bad(with("api", "one.pem", "two.key")), HasSubstr("api.tls_key: "));
  // The matching pair is fine on both listeners.
  EXPECT_TRUE(load_string(with("http", "one.pem", "one.key"), "test.toml", options_with()));
  EXPECT_TRUE(load_string(with("api", "two.pem", "two.key"), "test.toml", options_with()));
}

// With the defaults (10,000 numbers per check) a batch used not to fit in a 64 KiB line, and
// was refused as line_too_long with "id": null.
TEST(ConfigErrors, MaxBatchMustFitInMaxLineBytes) {
  EXPECT_THAT(
      load_bad(k_minimal + "[api]\nmax_line_bytes = 65536\n"),
      HasSubstr("api.max_batch: a check of 10000 numbers needs api.max_line_bytes >= 191024"));
  EXPECT_THAT(
      load_bad(k_minimal + "[api]\nmax_batch = 20000\n"),
      HasSubstr("api.max_batch: a check of 20000 numbers needs api.max_line_bytes >= 381024"));
  EXPECT_TRUE(load_string(k_minimal + "[api]\nmax_batch = 3000\nmax_line_bytes = 65536\n",
                          "test.toml", options_with()));
  // The defaults agree with each other.
  const settings defaults;
  EXPECT_GE(defaults.api.max_line_bytes, min_line_bytes_for_batch(defaults.api.max_batch));
  EXPECT_EQ(defaults.api.max_batch, 10000u);
}

TEST(ConfigErrors, KeywordConflictsAndBadKeywords) {
  std::string r = load_bad(k_minimal + R"(
[keywords]
opt_in = ["START", "STOP"]
help = ["AYÜDA"]
languages = ["de"]
)");
  EXPECT_THAT(r, HasSubstr("keywords.opt_in: \"STOP\" is also in opt_out"));
  EXPECT_THAT(r, HasSubstr("keywords.help: \"AYÜDA\" must be"));
  EXPECT_THAT(r, HasSubstr("keywords.languages: \"de\" has no built-in keywords"));
}

TEST(ConfigErrors, TomlSyntaxErrorHasALine) {
  load_result r = load_string("[server]\nthreads = = 3\n", "t.toml", options_with());
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().items.size(), 1u);
  EXPECT_EQ(r.error().items[0].line, 2u);
  EXPECT_THAT(r.error().to_string(), HasSubstr("TOML syntax"));
}

TEST(ConfigErrors, SecretsStayOutOfReports) {
  std::string r = load_bad(k_minimal + R"(
[evidence]
hmac_key = "short-secret-value"
)");
  EXPECT_THAT(r, HasSubstr("evidence.hmac_key: must be at least 32 bytes long"));
  EXPECT_THAT(r, Not(HasSubstr("short-secret-value")));
}

TEST(ConfigErrors, ValueThrowsWithTheReport) {
  load_result r = load_string("[nope]\n", "t.toml", options_with());
  EXPECT_THROW((void)r.value(), std::runtime_error);
}

}  // namespace
}  // namespace stopgate::config
