// The fake carrier against stopgate's own adapters: for each carrier, build_send ->
// carriers::http::client -> fake -> parse_send_response is accepted with the fake's id, and
// the fake recorded exactly the request the carrier would have received.
#include "tests/tools/fake_carrier_fixture.hpp"

#include "carriers/wire/response.hpp"
#include "carriers/wire/webhook_fields.hpp"

#include <gmock/gmock.h>

#include <algorithm>
#include <set>

namespace stopgate::fake_carrier::test {
namespace {

using config::secret;
using ::testing::ElementsAre;
using ::testing::Pair;

config::carrier_settings base(carrier_type t, const server& fake) {
  config::carrier_settings s;
  s.name = "c1";
  s.type = t;
  s.base_url = fake.base_url();
  return s;
}

// The settings an operator would write, built field by field (not with settings_for).
config::carrier_settings direct_settings(carrier_type t, const server& fake) {
  config::carrier_settings s = base(t, fake);
  switch (t) {
    case carrier_type::twilio:
      s.credentials = config::twilio_credentials{"AC0123456789abcdef0123456789abcdef",
                                                 secret::from_inline("twilio-secret")};
      break;
    case carrier_type::telnyx:
      s.credentials = config::telnyx_credentials{secret::from_inline("KEYtelnyx-test"), {}};
      break;
    case carrier_type::bandwidth: {
      config::bandwidth_credentials b;
      b.account_id = "5500123";
      b.application_id = "app-5500";
      b.username = "bw-user";
      b.password = secret::from_inline("bw-pass");
      s.credentials = b;
      break;
    }
    case carrier_type::vonage: {
      config::vonage_credentials v;
      v.api_key = "vonkey";
      v.api_secret = secret::from_inline("vonage-secret");
      s.credentials = v;
      break;
    }
    case carrier_type::plivo:
      s.credentials =
          config::plivo_credentials{"MATESTAUTHID0001", secret::from_inline("plivo-secret")};
      break;
    case carrier_type::sinch:
      s.credentials =
          config::sinch_credentials{"plan-77", secret::from_inline("sinch-token"), {}};
      break;
    case carrier_type::http: {
      config::http_credentials h;
      h.url = fake.base_url() + "/hooks/send";
      h.headers = {{"Authorization", secret::from_inline("Bearer http-token")},
                   {"X-Tenant", secret::from_inline("t1")}};
      s.base_url.clear();
      s.credentials = h;
      break;
    }
    case carrier_type::sandbox: break;
  }
  return s;
}

boost::json::value json_of(const std::string& body) {
  auto v = carriers::wire::parse_json(body);
  EXPECT_TRUE(v.has_value()) << body;
  return v.value_or(nullptr);
}

carriers::wire::param_list form_of(const std::string& body) {
  auto p = carriers::wire::form_params("application/x-www-form-urlencoded", body, {});
  EXPECT_TRUE(p.has_value()) << body;
  return p ? *p : carriers::wire::param_list{};
}

class FakeCarrierRoundTrip : public fake_carrier_test {
 protected:
  // Sends test_message() and checks the common part: accepted with the id the fake
  // recorded, one POST recorded with the expected target, Authorization and Content-Type.
  recorded_request round_trip(carrier_type t, std::string_view target,
                              std::optional<std::string_view> authorization,
                              std::string_view content_type) {
    exchange ex = send(direct_settings(t, *fake_));
    EXPECT_TRUE(ex.raw.has_value());
    if (!ex.raw) return {};
    EXPECT_TRUE(ex.parsed->accepted) << ex.raw->status << " " << ex.raw->body;
    auto reqs = fake_->requests(t);
    EXPECT_EQ(reqs.size(), 1u);
    if (reqs.empty()) return {};
    const recorded_request& r = reqs.front();
    EXPECT_FALSE(r.message_id.empty());
    EXPECT_EQ(ex.parsed->carrier_message_id, r.message_id);
    EXPECT_EQ(r.result, outcome::accepted);
    EXPECT_EQ(r.status, ex.raw->status);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, target);
    EXPECT_EQ(r.header("Authorization"), authorization);
    EXPECT_EQ(r.header("Content-Type"), content_type);
    return r;
  }
};

TEST_F(FakeCarrierRoundTrip, Twilio) {
  auto r = round_trip(carrier_type::twilio,
                      "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
                      "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0d2lsaW8tc2VjcmV0",
                      "application/x-www-form-urlencoded");
  EXPECT_THAT(form_of(r.body),
              ElementsAre(Pair("To", "+14155552671"), Pair("From", "+14155552000"),
                          Pair("Body", "Hello there"),
                          Pair("StatusCallback", "https://gw.example/hooks/status")));
  EXPECT_TRUE(r.message_id.starts_with("SM")) << r.message_id;
  EXPECT_EQ(r.message_id.size(), 34u);
  EXPECT_EQ(r.status, 201);
}

TEST_F(FakeCarrierRoundTrip, Telnyx) {
  auto r = round_trip(carrier_type::telnyx, "/v2/messages", "Bearer KEYtelnyx-test",
                      "application/json");
  EXPECT_EQ(json_of(r.body), (boost::json::object{{"from", "+14155552000"},
                                                  {"to", "+14155552671"},
                                                  {"text", "Hello there"},
                                                  {"webhook_url", "https://gw.example/hooks/status"}}));
  EXPECT_EQ(r.message_id.size(), 36u);  // a UUID
}

TEST_F(FakeCarrierRoundTrip, Bandwidth) {
  auto r = round_trip(carrier_type::bandwidth, "/api/v2/users/5500123/messages",
                      "Basic YnctdXNlcjpidy1wYXNz", "application/json; charset=utf-8");
  EXPECT_EQ(json_of(r.body), (boost::json::object{{"applicationId", "app-5500"},
                                                  {"to", boost::json::array{"+14155552671"}},
                                                  {"from", "+14155552000"},
                                                  {"text", "Hello there"},
                                                  {"tag", "msg-0001"}}));
  EXPECT_EQ(r.status, 202);
}

TEST_F(FakeCarrierRoundTrip, Vonage) {
  auto r = round_trip(carrier_type::vonage, "/sms/json", std::nullopt,
                      "application/x-www-form-urlencoded");
  EXPECT_THAT(form_of(r.body),
              ElementsAre(Pair("api_key", "vonkey"), Pair("api_secret", "vonage-secret"),
                          Pair("from", "14155552000"), Pair("to", "14155552671"),
                          Pair("text", "Hello there"), Pair("client-ref", "msg-0001"),
                          Pair("callback", "https://gw.example/hooks/status")));
  EXPECT_EQ(r.status, 200);
}

TEST_F(FakeCarrierRoundTrip, Plivo) {
  auto r = round_trip(carrier_type::plivo, "/v1/Account/MATESTAUTHID0001/Message/",
                      "Basic TUFURVNUQVVUSElEMDAwMTpwbGl2by1zZWNyZXQ=", "application/json");
  EXPECT_EQ(json_of(r.body), (boost::json::object{{"src", "14155552000"},
                                                  {"dst", "14155552671"},
                                                  {"text", "Hello there"},
                                                  {"url", "https://gw.example/hooks/status"}}));
  EXPECT_EQ(r.status, 202);
}

TEST_F(FakeCarrierRoundTrip, Sinch) {
  auto r = round_trip(carrier_type::sinch, "/xms/v1/plan-77/batches", "Bearer sinch-token",
                      "application/json");
  EXPECT_EQ(json_of(r.body),
            (boost::json::object{{"from", "+14155552000"},
                                 {"to", boost::json::array{"+14155552671"}},
                                 {"body", "Hello there"},
                                 {"client_reference", "msg-0001"},
                                 {"delivery_report", "per_recipient"},
                                 {"callback_url", "https://gw.example/hooks/status"}}));
  EXPECT_EQ(r.message_id.size(), 26u);
  EXPECT_EQ(r.status, 201);
}

TEST_F(FakeCarrierRoundTrip, GenericHttp) {
  auto r = round_trip(carrier_type::http, "/hooks/send", "Bearer http-token", "application/json");
  EXPECT_EQ(r.header("X-Tenant"), "t1");
  EXPECT_EQ(json_of(r.body),
            (boost::json::object{{"to", "+14155552671"},
                                 {"from", "+14155552000"},
                                 {"body", "Hello there"},
                                 {"message_id", "msg-0001"},
                                 {"status_callback_url", "https://gw.example/hooks/status"}}));
}

// Every spoken carrier: ids differ per message, and keep-alive reuses one connection.
TEST_F(FakeCarrierRoundTrip, IdsAreUniqueAndConnectionsReused) {
  std::set<std::string> ids;
  for (auto t : spoken_carriers) {
    SCOPED_TRACE(config::to_string(t));
    for (int i = 0; i < 2; ++i) {
      exchange ex = send(direct_settings(t, *fake_));
      ASSERT_TRUE(ex.raw);
      ASSERT_TRUE(ex.parsed->accepted);
      EXPECT_TRUE(ids.insert(ex.parsed->carrier_message_id).second)
          << ex.parsed->carrier_message_id;
    }
    EXPECT_EQ(fake_->counters().of(t).accepted, 2u);
  }
  EXPECT_EQ(fake_->counters().connections, 1u);  // 14 requests, one kept-alive connection
}

// settings_for() (used by relay tests and benchmarks) reaches the fake as well.
TEST_F(FakeCarrierRoundTrip, SettingsForAuthenticates) {
  for (auto t : spoken_carriers) {
    SCOPED_TRACE(config::to_string(t));
    exchange ex = send(settings(t));
    ASSERT_TRUE(ex.raw);
    EXPECT_TRUE(ex.parsed->accepted) << ex.raw->body;
  }
}

TEST_F(FakeCarrierRoundTrip, WrongCredentialsArePermanent) {
  for (auto t : spoken_carriers) {
    SCOPED_TRACE(config::to_string(t));
    config::carrier_settings s = direct_settings(t, *fake_);
    std::visit(
        [](auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, config::twilio_credentials> ||
                        std::is_same_v<T, config::plivo_credentials>)
            c.auth_token = secret::from_inline("wrong");
          else if constexpr (std::is_same_v<T, config::telnyx_credentials>)
            c.api_key = secret::from_inline("wrong");
          else if constexpr (std::is_same_v<T, config::bandwidth_credentials>)
            c.password = secret::from_inline("wrong");
          else if constexpr (std::is_same_v<T, config::vonage_credentials>)
            c.api_secret = secret::from_inline("wrong");
          else if constexpr (std::is_same_v<T, config::sinch_credentials>)
            c.api_token = secret::from_inline("wrong");
          else if constexpr (std::is_same_v<T, config::http_credentials>)
            c.headers.pop_back();  // X-Tenant missing
        },
        s.credentials);
    exchange ex = send(s);
    ASSERT_TRUE(ex.raw);
    EXPECT_FALSE(ex.parsed->accepted);
    EXPECT_EQ(ex.parsed->failure, carriers::failure_class::permanent) << ex.raw->body;
    // Vonage answers bad credentials inside a 200 (status 4); the others with 401.
    EXPECT_EQ(ex.raw->status, t == carrier_type::vonage ? 200 : 401);
    auto reqs = fake_->requests(t);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].result, outcome::unauthorized);
  }
}

TEST_F(FakeCarrierRoundTrip, TwilioAccountInPathMustMatch) {
  config::carrier_settings s = direct_settings(carrier_type::twilio, *fake_);
  s.credentials = config::twilio_credentials{"AC0000000000000000000000000000beef",
                                             secret::from_inline("twilio-secret")};
  exchange ex = send(s);
  ASSERT_TRUE(ex.raw);
  EXPECT_EQ(ex.raw->status, 401);
  EXPECT_EQ(ex.parsed->error_code, "20003");
}

TEST_F(FakeCarrierRoundTrip, MissingFieldsAreTheCarriersValidationErrors) {
  carriers::outbound_message no_body = test_message();
  no_body.body.clear();
  struct expectation {
    carrier_type type;
    int status;
    std::string code;
  };
  for (const auto& e : {expectation{carrier_type::twilio, 400, "21602"},
                        expectation{carrier_type::telnyx, 400, "10015"},
                        expectation{carrier_type::bandwidth, 400, "request-validation"},
                        expectation{carrier_type::vonage, 200, "2"},
                        expectation{carrier_type::plivo, 400, "http_400"},
                        expectation{carrier_type::sinch, 400, "syntax_constraint_violation"},
                        expectation{carrier_type::http, 400, "bad_request"}}) {
    SCOPED_TRACE(config::to_string(e.type));
    exchange ex = send(direct_settings(e.type, *fake_), no_body);
    ASSERT_TRUE(ex.raw);
    EXPECT_EQ(ex.raw->status, e.status) << ex.raw->body;
    EXPECT_EQ(ex.parsed->failure, carriers::failure_class::permanent);
    EXPECT_EQ(ex.parsed->error_code, e.code);
    EXPECT_EQ(fake_->counters().of(e.type).invalid, 1u);
  }
}

// Many sends in flight at once against a fake with several io threads: every one accepted,
// recorded once, with its own id.
TEST_F(FakeCarrierRoundTrip, ConcurrentSendsOnSeveralThreads) {
  server_options o;
  o.creds = test_credentials();
  o.threads = 3;
  auto busy = server::start(std::move(o));
  ASSERT_TRUE(busy);
  constexpr int n = 60;
  std::vector<std::optional<http::outcome>> out(n);
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < n; ++i) {
      auto t = spoken_carriers[std::size_t(i) % std::size(spoken_carriers)];
      auto call = carriers::build_send(fake_carrier::settings_for(t, test_credentials(),
                                                                  (*busy)->base_url()),
                                       test_message());
      asio::co_spawn(io_, client_->async_request(to_request(*call, 10s)),
                     [&out, i](std::exception_ptr, http::outcome o) { out[i] = std::move(o); });
    }
    asio::steady_timer wait(io_);
    while (!std::all_of(out.begin(), out.end(), [](const auto& o) { return o.has_value(); })) {
      wait.expires_after(2ms);
      co_await wait.async_wait(asio::use_awaitable);
    }
  });
  std::set<std::string> ids;
  for (const auto& r : (*busy)->requests()) {
    EXPECT_EQ(r.result, outcome::accepted);
    ids.insert(r.message_id);
  }
  EXPECT_EQ(ids.size(), std::size_t(n));
  EXPECT_EQ((*busy)->counters().requests, std::uint64_t(n));
  for (const auto& o : out) {
    ASSERT_TRUE(o && *o);
    EXPECT_GE((*o)->status, 200);
    EXPECT_LT((*o)->status, 300);
  }
  EXPECT_GT((*busy)->counters().connections, 1u);  // in parallel, not one after another
}

TEST_F(FakeCarrierRoundTrip, UnknownPathIs404AndNotRecorded) {
  http::request r;
  r.url = fake_->base_url() + "/v3/nothing";
  r.body = "{}";
  auto out = request(r);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 404);
  EXPECT_TRUE(fake_->requests().empty());
  EXPECT_EQ(fake_->counters().not_found, 1u);
}

// Kannel's generic HTTP SMSC (bench/kannel/kannel-http.conf.in) sends a GET with the message in
// the query and cannot add headers: the credentials may come as query parameters. The fake
// accepts it on the generic path, answers 202 "Accepted: <id>" and counts it; a wrong
// credential is refused.
TEST_F(FakeCarrierRoundTrip, KannelsGenericGetIsAcceptedWithCredentialsInTheQuery) {
  const std::string base = fake_->base_url() + "/hooks/send?from=14155552000&to=14155552671&text=Hello+there";
  http::request r;
  r.method = "GET";
  r.url = base + "&Authorization=Bearer+http-token&X-Tenant=t1";
  r.timeout = 5s;
  auto out = request(r);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 202);
  EXPECT_TRUE(out->body.starts_with("Accepted: ")) << out->body;
  ASSERT_EQ(fake_->requests(carrier_type::http).size(), 1u);
  EXPECT_EQ(fake_->counters().of(carrier_type::http).accepted, 1u);

  r.url = base + "&Authorization=Bearer+wrong&X-Tenant=t1";
  auto refused = request(r);
  ASSERT_TRUE(refused);
  EXPECT_GE(refused->status, 400);
  EXPECT_EQ(fake_->counters().of(carrier_type::http).accepted, 1u);
}

}  // namespace
}  // namespace stopgate::fake_carrier::test
