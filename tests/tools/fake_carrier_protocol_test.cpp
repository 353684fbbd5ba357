// The fake carrier's protocol logic without I/O: routing, and answers fed raw request bytes.
#include "tools/fake_carrier/protocol.hpp"

#include "tools/fake_carrier/dialect.hpp"

#include "carriers/wire/response.hpp"

#include <gtest/gtest.h>

#include <set>

namespace stopgate::fake_carrier {
namespace {

using config::carrier_type;
namespace json = boost::json;

struct fixture {
  credentials creds;
  id_source ids{0x1234};
  std::chrono::system_clock::time_point now =
      std::chrono::sys_days(std::chrono::year(2026) / 11 / 29) + std::chrono::hours(6);

  reply ask(carrier_type c, std::string_view path, carriers::header_list headers,
            std::string_view body, std::optional<fault> f = std::nullopt) {
    request_view r{"POST", path, headers, body};
    return answer(c, r, f, answer_context{creds, ids, now});
  }
};

json::value body_of(const reply& r) {
  auto v = carriers::wire::parse_json(r.body);
  EXPECT_TRUE(v) << r.body;
  return v.value_or(nullptr);
}

TEST(FakeCarrierProtocol, RoutesEveryCarrierAndOnlyPost) {
  credentials c;
  EXPECT_EQ(route("POST", "/2010-04-01/Accounts/ACx/Messages.json", c), carrier_type::twilio);
  EXPECT_EQ(route("POST", "/v2/messages", c), carrier_type::telnyx);
  EXPECT_EQ(route("POST", "/api/v2/users/123/messages", c), carrier_type::bandwidth);
  EXPECT_EQ(route("POST", "/sms/json", c), carrier_type::vonage);
  EXPECT_EQ(route("POST", "/v1/Account/MA1/Message/", c), carrier_type::plivo);
  EXPECT_EQ(route("POST", "/xms/v1/plan/batches", c), carrier_type::sinch);
  EXPECT_EQ(route("POST", "/send", c), carrier_type::http);
  EXPECT_FALSE(route("GET", "/v2/messages", c));
  EXPECT_FALSE(route("POST", "/2010-04-01/Accounts/a/b/Messages.json", c));
  EXPECT_FALSE(route("POST", "/v1/Account/MA1/Message", c));  // Plivo's trailing slash
  EXPECT_FALSE(route("POST", "/", c));
}

TEST(FakeCarrierProtocol, TwilioSuccessBodyIsAMessageResource) {
  fixture f;
  reply r = f.ask(carrier_type::twilio,
                  "/2010-04-01/Accounts/" + f.creds.twilio.account_sid + "/Messages.json",
                  {{"Authorization", "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwZmE0ZTpmYWtlLXR3aWxpby1hdXRoLXRva2Vu"},
                   {"Content-Type", "application/x-www-form-urlencoded"}},
                  "To=%2B14155552671&From=%2B14155552000&Body=Hi");
  ASSERT_EQ(r.status, 201) << r.body;
  json::value b = body_of(r);
  EXPECT_EQ(b.at("sid").as_string(), r.message_id);
  EXPECT_EQ(b.at("status"), "queued");
  EXPECT_EQ(b.at("account_sid").as_string(), f.creds.twilio.account_sid);
  EXPECT_EQ(b.at("to"), "+14155552671");
  EXPECT_EQ(b.at("body"), "Hi");
  EXPECT_EQ(b.at("date_created"), "Sun, 29 Nov 2026 06:00:00 +0000");
  EXPECT_EQ(b.at("uri").as_string(), "/2010-04-01/Accounts/" + f.creds.twilio.account_sid + "/Messages/" +
                             r.message_id + ".json");
}

TEST(FakeCarrierProtocol, ChecksComeInTheCarriersOrder) {
  fixture f;
  // Rate limits come from the front end: even without credentials.
  fault limit;
  limit.kind = fault_kind::rate_limit;
  reply r = f.ask(carrier_type::bandwidth, "/api/v2/users/9900001/messages", {}, "", limit);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.result, outcome::faulted);
  // An opt-out only for a request that authenticates.
  fault opted;
  opted.kind = fault_kind::opted_out;
  r = f.ask(carrier_type::telnyx, "/v2/messages", {}, "{}", opted);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.result, outcome::unauthorized);
  // Bandwidth: authenticated, but not JSON.
  r = f.ask(carrier_type::bandwidth, "/api/v2/users/9900001/messages",
            {{"Authorization", "Basic ZmFrZS1iYW5kd2lkdGgtdXNlcjpmYWtlLWJhbmR3aWR0aC1wYXNzd29yZA=="},
             {"Content-Type", "text/plain"}},
            "{}");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(body_of(r).at("type"), "unsupported-content-type");
}

TEST(FakeCarrierProtocol, VonageTakesJsonBodiesToo) {
  fixture f;
  reply r = f.ask(carrier_type::vonage, "/sms/json", {{"Content-Type", "application/json"}},
                  R"({"api_key": "fakekey1", "api_secret": "fake-vonage-secret",
                      "from": "14155552000", "to": "14155552671", "text": "Hi"})");
  ASSERT_EQ(r.status, 200);
  json::value m = body_of(r).at("messages").at(0);
  EXPECT_EQ(m.at("status"), "0");
  EXPECT_EQ(m.at("message-id").as_string(), r.message_id);
  EXPECT_EQ(r.message_id.size(), 16u);
}

TEST(FakeCarrierRows, EveryCarrierTypeHasItsOwnCompleteRow) {
  std::set<const dialect::carrier_row*> rows;
  for (auto t : {carrier_type::twilio, carrier_type::telnyx, carrier_type::bandwidth, carrier_type::vonage,
                 carrier_type::plivo, carrier_type::sinch, carrier_type::http, carrier_type::sandbox}) {
    const dialect::carrier_row& r = dialect::row_of(t);
    EXPECT_EQ(r.type, t) << config::to_string(t);
    EXPECT_TRUE(r.answer && r.inbound && r.status && r.sign && r.read_credentials && r.settings)
        << config::to_string(t);
    rows.insert(&r);
  }
  EXPECT_EQ(rows.size(), 8u);  // no two types share a row
}

}  // namespace
}  // namespace stopgate::fake_carrier
