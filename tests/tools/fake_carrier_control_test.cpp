// The fake carrier's control API (/_fake/...), its config file, and the fake_carrier
// program as scripts and benchmarks run it.
#include "tests/tools/fake_carrier_fixture.hpp"

#include "carriers/wire/response.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/error.hpp"

#include <csignal>
#include <fstream>

namespace stopgate::fake_carrier::test {
namespace {

// "YYYY-MM-DDTHH:MM:SS.ffffffZ"
bool is_rfc3339_micros(std::string_view t) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (t.size() != shape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool digit = t[i] >= '0' && t[i] <= '9';
    if (shape[i] == 'd' ? !digit : t[i] != shape[i]) return false;
  }
  return true;
}

// The URL of "fake_carrier listening on http://127.0.0.1:PORT", or "" before it is printed.
std::string listening_url(const std::string& out) {
  const std::string_view prefix = "listening on http://127.0.0.1:";
  auto at = out.find(prefix);
  if (at == std::string::npos) return {};
  auto end = at + prefix.size();
  while (end < out.size() && out[end] >= '0' && out[end] <= '9') ++end;
  if (end == at + prefix.size() || end == out.size()) return {};  // port not complete yet
  return out.substr(at + std::string_view("listening on ").size(), end - at - std::string_view("listening on ").size());
}

}  // namespace

namespace {

namespace json = boost::json;

class FakeCarrierControl : public fake_carrier_test {
 protected:
  http::response control(std::string method, std::string_view path, std::string body = {},
                         std::string base = {}) {
    http::request r;
    r.method = std::move(method);
    r.url = (base.empty() ? fake_->base_url() : base) + std::string(path);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    auto out = request(r);
    EXPECT_TRUE(out) << out.error().code.message();
    return out ? *out : http::response{};
  }
  static json::value parsed(const http::response& r) {
    auto v = carriers::wire::parse_json(r.body);
    EXPECT_TRUE(v) << r.body;
    return v.value_or(nullptr);
  }
};

TEST_F(FakeCarrierControl, FaultsPostedOverHttpApply) {
  auto added = control("POST", "/_fake/faults",
                       R"([{"kind": "rate_limit", "carrier": "twilio", "count": 2,
                            "retry_after": 9},
                           {"kind": "opted_out", "carrier": "telnyx", "count": 1}])");
  EXPECT_EQ(added.status, 200);
  EXPECT_EQ(parsed(added), (json::object{{"added", 2}}));

  exchange ex = send(settings(carrier_type::twilio));
  ASSERT_TRUE(ex.raw);
  EXPECT_EQ(ex.raw->status, 429);
  EXPECT_EQ(ex.parsed->retry_after, std::chrono::seconds(9));
  ex = send(settings(carrier_type::telnyx));
  ASSERT_TRUE(ex.raw);
  EXPECT_EQ(ex.parsed->failure, carriers::failure_class::recipient_opted_out);

  auto listed = parsed(control("GET", "/_fake/faults"));
  ASSERT_TRUE(listed.is_array());
  ASSERT_EQ(listed.get_array().size(), 1u);  // telnyx's single fault is used up
  EXPECT_EQ(listed.get_array()[0].at("carrier"), "twilio");
  EXPECT_EQ(listed.get_array()[0].at("count"), 1);

  EXPECT_EQ(control("DELETE", "/_fake/faults").status, 200);
  EXPECT_TRUE(fake_->faults().empty());
  EXPECT_TRUE(send(settings(carrier_type::twilio)).parsed->accepted);
}

TEST_F(FakeCarrierControl, BadFaultsAreRejected) {
  for (const char* body : {R"({"kind": "meltdown"})", R"({"kind": "latency", "delay": 5})",
                           R"({"kind": "server_error", "fraction": 1.5})",
                           R"({"kind": "permanent", "carrier": "acme"})", R"({"count": 1})",
                           "not json"}) {
    SCOPED_TRACE(body);
    auto r = control("POST", "/_fake/faults", body);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(parsed(r).as_object().contains("error"));
  }
  EXPECT_TRUE(fake_->faults().empty());
}

TEST_F(FakeCarrierControl, RequestsAndStatsDescribeTraffic) {
  fake_->add_fault({.kind = fault_kind::server_error, .carrier = carrier_type::sinch, .count = 1});
  send(settings(carrier_type::sinch));
  send(settings(carrier_type::vonage));

  auto all = parsed(control("GET", "/_fake/requests"));
  ASSERT_EQ(all.as_array().size(), 2u);
  const json::object& first = all.as_array()[0].as_object();
  EXPECT_EQ(first.at("carrier"), "sinch");
  EXPECT_EQ(first.at("method"), "POST");
  EXPECT_EQ(first.at("target"), "/xms/v1/plan-77/batches");
  EXPECT_EQ(first.at("fault"), "server_error");
  EXPECT_EQ(first.at("status"), 503);
  EXPECT_TRUE(first.at("body").as_string().starts_with("{\"from\":\"+14155552000\""));
  EXPECT_TRUE(is_rfc3339_micros(first.at("received_at").as_string())) << first.at("received_at");

  auto vonage = parsed(control("GET", "/_fake/requests?carrier=vonage"));
  ASSERT_EQ(vonage.as_array().size(), 1u);
  EXPECT_EQ(vonage.as_array()[0].at("outcome"), "accepted");
  EXPECT_FALSE(vonage.as_array()[0].at("message_id").as_string().empty());
  EXPECT_EQ(control("GET", "/_fake/requests?carrier=acme").status, 400);

  auto stats = parsed(control("GET", "/_fake/stats"));
  EXPECT_EQ(stats.at("requests"), 2);
  EXPECT_EQ(stats.at("carriers").at("sinch").at("faults").at("server_error"), 1);
  EXPECT_EQ(stats.at("carriers").at("vonage").at("accepted"), 1);
  EXPECT_EQ(stats.at("carriers").at("twilio").at("requests"), 0);

  EXPECT_EQ(control("POST", "/_fake/reset").status, 200);
  EXPECT_TRUE(fake_->requests().empty());
  EXPECT_EQ(fake_->counters().requests, 0u);
  EXPECT_EQ(control("GET", "/_fake/nothing").status, 404);
  EXPECT_EQ(control("POST", "/_fake/stats").status, 405);
}

TEST(FakeCarrierConfig, ParsesCredentialOverrides) {
  std::string detail;
  auto c = parse_credentials(R"({"twilio": {"auth_token": "t2"},
                                 "http": {"path": "/x", "headers": {"X-Key": "k"}}})",
                             detail);
  ASSERT_TRUE(c) << detail;
  EXPECT_EQ(c->twilio.auth_token, "t2");
  EXPECT_EQ(c->twilio.account_sid, credentials{}.twilio.account_sid);  // default kept
  EXPECT_EQ(c->http.path, "/x");
  ASSERT_EQ(c->http.headers.size(), 1u);
  EXPECT_EQ(c->http.headers[0].first, "X-Key");

  EXPECT_EQ(parse_credentials(R"({"twilio": {"authtoken": "x"}})", detail).error(),
            fake_errc::unknown_key);
  EXPECT_EQ(detail, "twilio.authtoken");
  EXPECT_EQ(parse_credentials(R"({"acme": {}})", detail).error(), fake_errc::unknown_carrier);
  EXPECT_EQ(parse_credentials(R"({"telnyx": {"api_key": 5}})", detail).error(),
            fake_errc::bad_value);
  EXPECT_EQ(parse_credentials("[", detail).error(), fake_errc::bad_json);
}

// The program: prints its bound port, uses the config's credentials, stops on SIGTERM.
TEST_F(FakeCarrierControl, ProgramServesAndStopsOnSigterm) {
  stopgate::test::temp_dir dir;
  const auto config = dir.path() / "creds.json";
  std::ofstream(config) << R"({"telnyx": {"api_key": "from-file"}})";
  stopgate::test::process p({STOPGATE_BINARY_DIR "/tools/fake_carrier", "--listen",
                             "127.0.0.1:0", "--threads", "2", "--config", config.string()},
                            dir.path() / "fake.log");
  std::string out;
  for (int i = 0; i < 500 && listening_url(out = p.output()).empty(); ++i)
    std::this_thread::sleep_for(10ms);  // waiting for start-up, not timing anything
  const std::string base = listening_url(out);
  ASSERT_FALSE(base.empty()) << out;

  EXPECT_EQ(control("GET", "/_fake/health", {}, base).status, 200);
  config::carrier_settings s = settings_for(carrier_type::telnyx, credentials{}, base);
  exchange ex = send(s);
  ASSERT_TRUE(ex.raw);
  EXPECT_EQ(ex.raw->status, 401);  // the default key is not the configured one
  s.credentials = config::telnyx_credentials{config::secret::from_inline("from-file"), {}};
  ex = send(s);
  ASSERT_TRUE(ex.raw);
  EXPECT_TRUE(ex.parsed->accepted);

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(10s), 0);
  EXPECT_NE(p.output().find("fake_carrier stopped"), std::string::npos);
}

TEST(FakeCarrierProgram, HelpExplainsCredentials) {
  auto [code, out] = stopgate::test::run_program({STOPGATE_BINARY_DIR "/tools/fake_carrier",
                                                  "--help"});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("/2010-04-01/Accounts/{account_sid}/Messages.json"), std::string::npos);
  EXPECT_NE(out.find(credentials{}.telnyx.api_key), std::string::npos);
  EXPECT_NE(out.find("--config"), std::string::npos);
}

}  // namespace
}  // namespace stopgate::fake_carrier::test
