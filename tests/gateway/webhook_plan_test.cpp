// The inbound planner, table-tested: a message, the carrier it came through and the sender
// owning the number written to -> its class, its effect and scope, the evidence records and
// the reply it asks for. No I/O: the shell (service::apply) only carries out these plans.
#include "gateway/webhooks/inbound_plan.hpp"

#include "config/load.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopgate::gateway::webhooks {
namespace {

using evidence::record_type;

const char* config_text = R"(
[evidence]
hmac_key = "plan-test-hmac-key-0123456789abcdef"
[carriers.sandbox]
type = "sandbox"
webhook_secret = "sandbox-secret"
[carriers.intl]
type = "sandbox"
webhook_secret = "sandbox-secret"
default_country = ""
[senders.acme]
numbers = ["+14155552000"]
route = ["sandbox"]
optout_reply = "Acme: unsubscribed."
optin_reply = "Acme: subscribed again."
help_reply = "Acme: reply STOP to stop."
[senders.beta]
numbers = ["+14155552001"]
route = ["sandbox"]
optout_reply = ""
help_reply = ""
forward_url = "https://beta.example/inbound"
)";

struct row {
  const char* name;
  const char* carrier;
  const char* from;
  const char* to;
  const char* body;
  // Expected:
  const char* cls;
  inbound_effect effect;
  const char* scope;  // "" when there is no opt-out
  std::vector<record_type> records;
  const char* reply_kind;  // "" = none
  const char* reply_body;
  bool reply_marker;
  bool forward;
};

void PrintTo(const row& r, std::ostream* os) { *os << r.name; }

const std::vector<row>& rows() {
  using enum inbound_effect;
  static const std::vector<row> r = {
      {"stop_to_a_sender", "sandbox", "+14155552671", "+14155552000", "STOP", "opt_out", opt_out,
       "acme", {record_type::inbound, record_type::optout}, "optout", "Acme: unsubscribed.", true,
       false},
      {"stopall_is_every_sender", "sandbox", "+14155552671", "+14155552000", "STOPALL",
       "opt_out_all", opt_out, "*", {record_type::inbound, record_type::optout}, "optout",
       "Acme: unsubscribed.", true, false},
      {"stop_to_an_unowned_number_stops_everything", "sandbox", "+14155552671", "+14155559999",
       "stop", "opt_out", opt_out, "*", {record_type::inbound, record_type::optout}, "", "",
       false, false},
      {"a_sender_without_an_optout_reply_gets_none", "sandbox", "+14155552671", "+14155552001",
       "Stop", "opt_out", opt_out, "beta", {record_type::inbound, record_type::optout}, "", "",
       false, false},
      {"a_latin1_body_is_read_as_latin1", "sandbox", "+14155552671", "+14155552000",
       "Arr\xEAt", "opt_out", opt_out, "acme", {record_type::inbound, record_type::optout},
       "optout", "Acme: unsubscribed.", true, false},
      {"bare_ten_digit_numbers_are_nanp", "sandbox", "4155552671", "4155552000", "STOP",
       "opt_out", opt_out, "acme", {record_type::inbound, record_type::optout}, "optout",
       "Acme: unsubscribed.", true, false},
      {"an_international_carrier_writes_numbers_without_plus", "intl", "14155552671",
       "14155552000", "STOP", "opt_out", opt_out, "acme",
       {record_type::inbound, record_type::optout}, "optout", "Acme: unsubscribed.", true, false},
      {"an_ambiguous_number_keys_nothing", "sandbox", "5552671", "+14155552000", "STOP",
       "opt_out", none, "", {record_type::inbound}, "", "", false, false},
      {"start_is_an_opt_in_confirmed_only_if_unblocked", "sandbox", "+14155552671",
       "+14155552000", "START", "opt_in", opt_in, "", {record_type::inbound, record_type::optin},
       "optin", "Acme: subscribed again.", false, false},
      {"start_to_an_unowned_number_changes_nothing", "sandbox", "+14155552671", "+14155559999",
       "START", "opt_in", none, "", {record_type::inbound}, "", "", false, false},
      {"help_gets_the_help_reply", "sandbox", "+14155552671", "+14155552000", "HELP", "help",
       none, "", {record_type::inbound}, "help", "Acme: reply STOP to stop.", false, false},
      {"help_without_a_help_reply_gets_none", "sandbox", "+14155552671", "+14155552001", "help",
       "help", none, "", {record_type::inbound}, "", "", false, false},
      {"other_is_forwarded_where_a_url_is_set", "sandbox", "+14155552671", "+14155552001",
       "what time do you open?", "other", none, "", {record_type::inbound}, "", "", false, true},
      {"other_is_not_forwarded_without_a_url", "sandbox", "+14155552671", "+14155552000",
       "what time do you open?", "other", none, "", {record_type::inbound}, "", "", false, false},
  };
  return r;
}

class InboundPlan : public ::testing::TestWithParam<row> {};

TEST_P(InboundPlan, DecidesClassEffectRecordsAndReply) {
  const row& t = GetParam();
  auto loaded = config::load_string(config_text, "test");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const config::settings& s = **loaded;
  const auto classifiers = classifier_set::make(*loaded);
  carriers::inbound_message m;
  m.carrier = "sandbox";
  m.carrier_message_id = "m-1";
  m.from = t.from;
  m.to = t.to;
  m.body = t.body;
  const auto at = dnc::model::sys_time(std::chrono::seconds(1796000000));

  const inbound_plan p = plan_inbound(s, *s.carrier(t.carrier), m, *classifiers, at);
  EXPECT_EQ(p.cls, t.cls);
  EXPECT_EQ(p.effect, t.effect);
  if (t.effect == inbound_effect::opt_out) {
    EXPECT_EQ(p.scope, t.scope);
  }
  ASSERT_EQ(p.records.size(), t.records.size());
  for (std::size_t i = 0; i < t.records.size(); ++i) EXPECT_EQ(p.records[i].type, t.records[i]);
  // The effect's record names its inbound record (filled in by the log) and the consumer.
  if (p.records.size() == 2) {
    EXPECT_EQ(p.records[1].id_field, "inbound_evidence_id");
    EXPECT_EQ(p.records[1].id_of, 0u);
    EXPECT_EQ(p.records[1].fields.at("to").as_string(), "+14155552671");
  }
  EXPECT_EQ(p.records[0].fields.at("class").as_string(), t.cls);
  EXPECT_EQ(p.reply.kind, t.reply_kind);
  EXPECT_EQ(p.reply.body, t.reply_body);
  EXPECT_EQ(p.reply.marker, t.reply_marker);
  EXPECT_EQ(p.reply.only_if_unblocked, t.effect == inbound_effect::opt_in && *t.reply_kind);
  EXPECT_EQ(p.forward, t.forward);
  EXPECT_EQ(p.source, std::string("sms:") + t.carrier);
}

INSTANTIATE_TEST_SUITE_P(Table, InboundPlan, ::testing::ValuesIn(rows()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(InboundPlanRecord, KeepsTheBodyLosslesslyAndNamesItsReading) {
  auto loaded = config::load_string(config_text, "test");
  ASSERT_TRUE(loaded);
  const auto classifiers = classifier_set::make(*loaded);
  carriers::inbound_message m;
  m.carrier_message_id = "m-2";
  m.from = "+14155552671";
  m.to = "+14155552000";
  m.body = "Arr\xEAt";
  const auto p = plan_inbound(**loaded, *(*loaded)->carrier("sandbox"), m, *classifiers,
                              dnc::model::sys_time(std::chrono::seconds(1796000000)));
  const auto& rec = p.records.at(0).fields;
  EXPECT_EQ(rec.at("body_reading").as_string(), "latin1");
  EXPECT_TRUE(rec.contains("body_b64")) << "the original bytes are recoverable";
  EXPECT_EQ(rec.at("sender").as_string(), "acme");
  EXPECT_EQ(rec.at("carrier").as_string(), "sandbox");
  EXPECT_EQ(p.from_text, "+14155552671");  // what a forward names as `from`
}

}  // namespace
}  // namespace stopgate::gateway::webhooks
