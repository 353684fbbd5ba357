// Every carrier type has its row (carriers/dialect.hpp), and the row is that type's: the relay
// and the webhook routes reach every carrier only through it.
#include "carriers/dialect.hpp"

#include <gtest/gtest.h>

#include <set>

namespace stopgate::carriers {
namespace {

TEST(Dialect, EveryCarrierTypeHasItsOwnCompleteRow) {
  using config::carrier_type;
  std::set<const dialect*> rows;
  for (auto t : {carrier_type::twilio, carrier_type::telnyx, carrier_type::bandwidth, carrier_type::vonage,
                 carrier_type::plivo, carrier_type::sinch, carrier_type::http, carrier_type::sandbox}) {
    const dialect& d = dialect_of(t);
    EXPECT_EQ(d.type, t) << config::to_string(t);
    EXPECT_TRUE(d.build_send && d.parse_send_response && d.parse_inbound && d.parse_status && d.verify_webhook)
        << config::to_string(t);
    rows.insert(&d);
  }
  EXPECT_EQ(rows.size(), 8u);  // no two types share a row
  // The sandbox sends nothing over HTTP; every other carrier builds a request.
  EXPECT_FALSE(dialect_of(carrier_type::sandbox).build_send(config::carrier_settings{}, outbound_message{}));
}

TEST(Dialect, CarriersThatReadXmlRepliesGetAnEmptyXmlAnswerOthersJson) {
  using config::carrier_type;
  for (auto t : {carrier_type::twilio, carrier_type::plivo}) {
    EXPECT_EQ(dialect_of(t).inbound_ack.content_type, "text/xml; charset=utf-8");
    EXPECT_EQ(dialect_of(t).inbound_ack.body, "<Response></Response>");  // no reply message
  }
  for (auto t : {carrier_type::telnyx, carrier_type::bandwidth, carrier_type::vonage, carrier_type::sinch,
                 carrier_type::http, carrier_type::sandbox}) {
    EXPECT_EQ(dialect_of(t).inbound_ack.content_type, "application/json") << config::to_string(t);
    EXPECT_EQ(dialect_of(t).inbound_ack.body, R"({"ok":true})");
  }
}

}  // namespace
}  // namespace stopgate::carriers
