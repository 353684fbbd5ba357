// `send` through real carrier adapters: the stopgate binary relays to the fake carrier
// (tools/fake_carrier, in this process) speaking Twilio's API, with a generic `http` carrier
// as the second carrier of the route.
#include "carriers/twilio/signature.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "redis/slot.hpp"
#include "tests/gateway/daemon_support.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace stopgate::test {
namespace {

namespace json = boost::json;
using config::carrier_type;
using fake_carrier::fault;
using fake_carrier::fault_kind;

struct carrier_gateway {
  std::unique_ptr<fake_carrier::server> fake;
  int api_port = free_port();
  int http_port = free_port();
  std::unique_ptr<process> proc;

  carrier_gateway(const temp_dir& d, const redis_server& r) : carrier_gateway(d, r.tcp_url()) {}
  carrier_gateway(const temp_dir& d, const std::string& redis_url) {
    // The fake's default Twilio account SID is not the 34 characters our config requires.
    fake_carrier::server_options o;
    o.creds.twilio.account_sid = "AC0123456789abcdef0123456789abcdef";
    fake = fake_carrier::server::start(o).value();
    const auto& c = fake->creds();
    std::string http_headers;
    for (auto& [k, v] : c.http.headers) http_headers += k + " = \"" + v + "\"\n";
    const auto cfg =
        "[server]\ndata_dir = \"" + d.path().string() +
        "/data\"\ninstance = \"gwC\"\nthreads = 2\n"
        "shutdown_grace_ms = 2000\n"
        "[api]\nlisten = \"127.0.0.1:" +
        std::to_string(api_port) +
        "\"\n"
        "[http]\nlisten = \"127.0.0.1:" +
        std::to_string(http_port) +
        "\"\npublic_url = \"http://127.0.0.1:" + std::to_string(http_port) +
        "\"\n"
        "[redis]\nurl = \"" +
        redis_url +
        "\"\ntimeout_ms = 300\n"
        "[evidence]\nhmac_key = \"file:evidence.key\"\n"
        "[carriers.twilio]\ntype = \"twilio\"\nbase_url = \"" +
        fake->base_url() + "\"\naccount_sid = \"" + c.twilio.account_sid + "\"\nauth_token = \"" +
        c.twilio.auth_token +
        "\"\nretries = 1\nbackoff_initial_ms = 5\nbackoff_max_ms = 10\ntimeout_ms = 500\n"
        "circuit_failure_threshold = 100\n"
        "[carriers.backup]\ntype = \"http\"\nurl = \"" +
        fake->base_url() + c.http.path +
        "\"\n"
        "retries = 0\ntimeout_ms = 500\n"
        "[carriers.backup.headers]\n" +
        http_headers +
        "[senders.acme]\nnumbers = [\"+14155552000\"]\nroute = [\"twilio\", \"backup\"]\n"
        "[lists.internal]\nkind = \"internal\"\n";
    auto path = d.write("gwC.toml", cfg);
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", path.string()},
        d.path() / "gwC.log");
  }
  ~carrier_gateway() {
    proc.reset();
    fake->stop();
  }
  json::object send(line_client& c, const std::string& fields) {
    return c.call(
        json::parse(R"({"op":"send","sender":"acme","purpose":"informational")" + fields + "}")
            .as_object());
  }
};

// POSTs a form body with Twilio's signature header; returns the HTTP status.
int post_twilio_form(int port, const std::string& path,
                     const carriers::signature::param_list& params, const std::string& signature) {
  std::string body;
  auto enc = [](const std::string& v) {
    std::string out;
    for (unsigned char ch : v) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
        out += char(ch);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        out += buf;
      }
    }
    return out;
  };
  for (auto& [k, v] : params) body += (body.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  const std::string req =
      "POST " + path +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
      signature + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string raw = gwtest::http_exchange(port, req);
  return raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
}

// Every key of the Redis and every value it holds (strings, hashes, sets, sorted sets,
// lists, streams), one "key = value" line per element.
std::vector<std::string> whole_keyspace(const redis_server& r) {
  std::vector<std::string> out;
  std::istringstream keys(r.cli("--scan"));
  for (std::string k; std::getline(keys, k);) {
    if (k.empty()) continue;
    out.push_back(k);
    const std::string type = r.cli("TYPE '" + k + "'");
    std::string values;
    if (type == "string")
      values = r.cli("GET '" + k + "'");
    else if (type == "hash")
      values = r.cli("HGETALL '" + k + "'");
    else if (type == "set")
      values = r.cli("SMEMBERS '" + k + "'");
    else if (type == "zset")
      values = r.cli("ZRANGE '" + k + "' 0 -1");
    else if (type == "list")
      values = r.cli("LRANGE '" + k + "' 0 -1");
    else if (type == "stream")
      values = r.cli("XRANGE '" + k + "' - +");
    else
      values = "(type " + type + ")";
    std::istringstream lines(values);
    for (std::string v; std::getline(lines, v);) out.push_back(k + " = " + v);
  }
  return out;
}

// True when `text` holds the national digits of the number as a number of their own: not
// inside a longer run of digits or hex (a timestamp or a hash can hold any ten digits by
// chance), though "+1" may come before them.
bool holds_number(std::string_view text, std::string_view national) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (auto at = text.find(national); at != std::string_view::npos;
       at = text.find(national, at + 1)) {
    const auto end = at + national.size();
    const bool before_ok =
        at == 0 || !alnum(text[at - 1]) || (at >= 2 && text.substr(at - 2, 2) == "+1");
    const bool after_ok = end == text.size() || !alnum(text[end]);
    if (before_ok && after_ok) return true;
  }
  return false;
}

// forget reaches every record that names the number outside the evidence log: message
// records (30 days), the answers stored under idempotency keys (a carrier's error message
// quotes the number), the reply queue; the opt-out stays.
TEST(SendCarrier, ForgetLeavesTheNumberNowhereInRedisAndKeepsTheSuppression) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  const std::string national = "2125552671";

  // Twilio refuses the first send quoting the number; the answer is stored under "k1".
  gw.fake->add_fault(
      fault{.kind = fault_kind::permanent, .carrier = carrier_type::twilio, .count = 1});
  auto refused = gw.send(c, R"(,"to":"+12125552671","body":"one","idempotency_key":"k1")");
  ASSERT_EQ(refused["status"], "failed") << json::serialize(refused);
  ASSERT_TRUE(holds_number(json::serialize(refused), national)) << json::serialize(refused);
  auto sent = gw.send(c, R"(,"to":"+12125552671","body":"two","idempotency_key":"k2")");
  ASSERT_EQ(sent["status"], "sent") << json::serialize(sent);
  auto other = gw.send(c, R"(,"to":"+13125552671","body":"someone else")");
  ASSERT_EQ(other["status"], "sent") << json::serialize(other);

  // A STOP: the opt-out, and a confirmation that stays queued (Twilio answers 503 for now).
  gw.fake->add_fault(fault{.kind = fault_kind::server_error, .carrier = carrier_type::twilio});
  const carriers::signature::param_list stop = {{"MessageSid", "SMstop0001"},
                                                {"From", "+12125552671"},
                                                {"To", "+14155552000"},
                                                {"Body", "STOP"}};
  const std::string url = "http://127.0.0.1:" + std::to_string(gw.http_port) + "/v1/inbound/twilio";
  ASSERT_EQ(post_twilio_form(
                gw.http_port, "/v1/inbound/twilio", stop,
                carriers::signature::twilio_sign(gw.fake->creds().twilio.auth_token, url, stop)),
            200);
  auto holding = [&](const std::vector<std::string>& lines, std::string_view key_part) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(key_part) != std::string::npos && holds_number(l, national);
    });
  };
  const auto before = whole_keyspace(r);
  ASSERT_GE(holding(before, "stopgate:msg:msg_"), 2) << "the two message records";
  ASSERT_GE(holding(before, "stopgate:send:idem:acme:k1"), 1)
      << "the stored answer quoting the number";
  ASSERT_GE(holding(before, "{sg:in}:items"), 1) << "the queued confirmation";

  auto f = c.call(json::object{{"op", "forget"}, {"to", "+12125552671"}});
  ASSERT_EQ(f["ok"], true) << json::serialize(f);
  const auto erased = json::serialize(f["erased"]);
  EXPECT_NE(erased.find("message:" + std::string(sent["message_id"].as_string())),
            std::string::npos)
      << erased;
  EXPECT_NE(erased.find("message:" + std::string(refused["message_id"].as_string())),
            std::string::npos)
      << erased;
  EXPECT_NE(erased.find("idempotency_answer_text:acme:k1"), std::string::npos) << erased;
  EXPECT_NE(erased.find("queued_reply:"), std::string::npos) << erased;

  for (const auto& line : whole_keyspace(r)) EXPECT_FALSE(holds_number(line, national)) << line;
  // The other recipient's message is untouched.
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + std::string(other["message_id"].as_string()) + " to"),
            "+13125552671");

  // The suppression holds, and a repeat of k1 still sends nothing.
  auto again = gw.send(c, R"(,"to":"+12125552671","body":"three")");
  EXPECT_EQ(again["status"], "blocked") << json::serialize(again);
  EXPECT_EQ(again["reasons"].as_array(), json::array{"optout"});
  const auto twilio_calls = gw.fake->requests(carrier_type::twilio).size();
  auto replay = gw.send(c, R"(,"to":"+12125552671","body":"one","idempotency_key":"k1")");
  EXPECT_EQ(replay["status"], "failed") << json::serialize(replay);
  EXPECT_EQ(replay["message_id"], refused["message_id"]);
  EXPECT_EQ(replay["error"].at("message"), "erased by forget");
  EXPECT_EQ(gw.fake->requests(carrier_type::twilio).size(), twilio_calls);
}

TEST(SendCarrier, TwilioStatusCallbackWithOptOutCodeBlocksTheNextSend) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = gw.send(c, R"(,"to":"+12125552671","body":"hello")");
  ASSERT_EQ(a["status"], "sent") << json::serialize(a);
  const std::string sid(a["carrier_message_id"].as_string());
  const std::string mid(a["message_id"].as_string());
  const carriers::signature::param_list params = {{"MessageSid", sid},
                                                  {"MessageStatus", "undelivered"},
                                                  {"ErrorCode", "21610"},
                                                  {"From", "+14155552000"},
                                                  {"To", "+12125552671"}};
  const std::string url = "http://127.0.0.1:" + std::to_string(gw.http_port) + "/v1/status/twilio";
  // Signed with the wrong token: refused, nothing changes.
  EXPECT_EQ(post_twilio_form(gw.http_port, "/v1/status/twilio", params,
                             carriers::signature::twilio_sign("not-the-token", url, params)),
            403);
  EXPECT_EQ(gw.send(c, R"(,"to":"+12125552671","body":"still ok")")["status"], "sent");
  EXPECT_EQ(post_twilio_form(
                gw.http_port, "/v1/status/twilio", params,
                carriers::signature::twilio_sign(gw.fake->creds().twilio.auth_token, url, params)),
            200);
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " status"), "undelivered");
  auto next = gw.send(c, R"(,"to":"+12125552671","body":"again")");
  EXPECT_EQ(next["status"], "blocked") << json::serialize(next);
  EXPECT_EQ(next["reasons"].as_array(), json::array{"optout"});
}

TEST(SendCarrier, TwilioAcceptsAndItsMessageIdIsReturned) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = gw.send(c, R"(,"to":"+12125552671","body":"Your code is 1234")");
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["status"], "sent") << json::serialize(a);
  EXPECT_EQ(a["carrier"], "twilio");
  auto reqs = gw.fake->requests(carrier_type::twilio);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(a["carrier_message_id"], reqs[0].message_id.c_str());
  EXPECT_NE(reqs[0].body.find("Body=Your+code+is+1234"), std::string::npos) << reqs[0].body;
  EXPECT_EQ(r.cli("GET stopgate:msg:carrier:twilio:" + reqs[0].message_id),
            std::string(a["message_id"].as_string()));
}

TEST(SendCarrier, ServerErrorsFailOverToTheNextCarrierOfTheRouteAndStatsCountsEachCall) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  gw.fake->add_fault(fault{.kind = fault_kind::server_error, .carrier = carrier_type::twilio});
  auto a = gw.send(c, R"(,"to":"+12125552671","body":"hello")");
  EXPECT_EQ(a["status"], "sent") << json::serialize(a);
  EXPECT_EQ(a["carrier"], "backup");
  EXPECT_EQ(gw.fake->requests(carrier_type::twilio).size(), 2u);  // first try + 1 retry
  EXPECT_EQ(gw.fake->requests(carrier_type::http).size(), 1u);
  // The `stats` op carries the same counters as /metrics, the relay's per-carrier ones included.
  auto st = c.call(json::object{{"op", "stats"}});
  ASSERT_EQ(st["ok"], true) << json::serialize(st);
  auto calls = [&](std::string_view carrier, std::string_view result) {
    const auto& fam = st.at("metrics").at("stopgate_carrier_calls_total").as_object();
    for (const auto& s : fam.at("samples").as_array()) {
      const auto& l = s.at("labels").as_object();
      if (l.at("carrier").as_string() == carrier && l.at("result").as_string() == result)
        return s.at("value").to_number<double>();
    }
    return -1.0;
  };
  EXPECT_EQ(calls("twilio", "retryable"), 2.0) << json::serialize(st["metrics"]);
  EXPECT_EQ(calls("twilio", "accepted"), 0.0);
  EXPECT_EQ(calls("backup", "accepted"), 1.0);
  // The socket API's and the HTTP server's families are there too.
  EXPECT_TRUE(st.at("metrics").as_object().contains("stopgate_api_requests_total"));
  EXPECT_TRUE(st.at("metrics").as_object().contains("stopgate_http_requests_total"))
      << json::serialize(st["metrics"]);
}

TEST(SendCarrier, ACarrierOptOutAnswerIsRecordedAndBlocksTheNextSend) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  gw.fake->add_fault(
      fault{.kind = fault_kind::opted_out, .carrier = carrier_type::twilio, .count = 1});
  auto a = gw.send(c, R"(,"to":"+12125552671","body":"hello")");
  EXPECT_EQ(a["status"], "failed") << json::serialize(a);
  EXPECT_EQ(a["error"].at("code"), "recipient_opted_out");
  // Never handed to the backup carrier: the person said STOP.
  EXPECT_EQ(gw.fake->requests(carrier_type::http).size(), 0u);

  auto next = gw.send(c, R"(,"to":"+12125552671","body":"again")");
  EXPECT_EQ(next["status"], "blocked") << json::serialize(next);
  EXPECT_EQ(next["reasons"].as_array(), json::array{"optout"});
  EXPECT_EQ(gw.fake->requests().size(), 1u);
  auto lk = c.call(json::object{{"op", "lookup"}, {"to", "+12125552671"}});
  ASSERT_EQ(lk["optouts"].as_array().size(), 1u) << json::serialize(lk);
  EXPECT_EQ(lk["optouts"].as_array()[0].at("source"), "carrier:twilio");
}

TEST(SendCarrier, ATimeoutAfterTheRequestLeftIsOutcomeUnknownAndNeverResent) {
  redis_server r;
  temp_dir d;
  carrier_gateway gw(d, r);
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  gw.fake->add_fault(fault{.kind = fault_kind::timeout, .carrier = carrier_type::twilio});
  const std::string req = R"(,"to":"+12125552671","body":"hello","idempotency_key":"k-timeout")";
  auto a = gw.send(c, req);
  EXPECT_EQ(a["status"], "failed") << json::serialize(a);
  EXPECT_EQ(a["error"].at("code"), "outcome_unknown");
  gw.fake->clear_faults();
  // The same key: the stored outcome, no second request to any carrier.
  auto b = gw.send(c, req);
  EXPECT_EQ(b["status"], "failed");
  EXPECT_EQ(b["message_id"], a["message_id"]);
  EXPECT_EQ(b["idempotent_replay"], true);
  EXPECT_EQ(gw.fake->requests(carrier_type::twilio).size(), 1u);
  EXPECT_EQ(gw.fake->requests(carrier_type::http).size(), 0u);
}

// The send path on a 3-primary cluster, where a message's record, its carrier-id index and the
// recipient's message list sit in three slots (written without a cross-slot MULTI): the status
// callback finds the message and its opt-out code blocks the next send; a STOP's confirmation
// goes out through Twilio from its slot's reply queue; forget erases the number's message records
// and a confirmation still queued for it, on whichever shards they live.
TEST(SendCarrier, OnAClusterSendsStatusCallbacksStopsAndForgetWork) {
  redis_cluster cl(3, 0);
  temp_dir d;
  carrier_gateway gw(d, cl.url());
  line_client c(gw.api_port);
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto on = [&](const std::string& key) { return cl.primary_of_slot(redis::key_slot(key)); };
  json::object a;
  for (int i = 0; i < 200; ++i) {  // until the gateway has the cluster's slot map
    a = gw.send(c, R"(,"to":"+12125552671","body":"hello")");
    if (a["ok"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(a["status"], "sent") << json::serialize(a) << gw.proc->output();
  const std::string sid(a["carrier_message_id"].as_string()), mid(a["message_id"].as_string());
  const std::string rec = "stopgate:msg:" + mid, idx = "stopgate:msg:carrier:twilio:" + sid;
  EXPECT_EQ(cl.cli(on(rec), "HGET " + rec + " to"), "+12125552671");
  EXPECT_EQ(cl.cli(on(idx), "GET " + idx), mid);

  const carriers::signature::param_list params = {{"MessageSid", sid},
                                                  {"MessageStatus", "undelivered"},
                                                  {"ErrorCode", "21610"},
                                                  {"From", "+14155552000"},
                                                  {"To", "+12125552671"}};
  const std::string base = "http://127.0.0.1:" + std::to_string(gw.http_port);
  const std::string token = gw.fake->creds().twilio.auth_token;
  EXPECT_EQ(post_twilio_form(gw.http_port, "/v1/status/twilio", params,
                             carriers::signature::twilio_sign(token, base + "/v1/status/twilio", params)),
            200);
  EXPECT_EQ(cl.cli(on(rec), "HGET " + rec + " status"), "undelivered");
  auto blocked = gw.send(c, R"(,"to":"+12125552671","body":"again")");
  EXPECT_EQ(blocked["status"], "blocked") << json::serialize(blocked);

  // A STOP from a recipient: its confirmation is relayed through Twilio.
  auto stop = [&](const std::string& sid_in, const std::string& from) {
    const carriers::signature::param_list p = {
        {"MessageSid", sid_in}, {"From", from}, {"To", "+14155552000"}, {"Body", "STOP"}};
    return post_twilio_form(gw.http_port, "/v1/inbound/twilio", p,
                            carriers::signature::twilio_sign(token, base + "/v1/inbound/twilio", p));
  };
  ASSERT_EQ(stop("SMstopc001", "+13125552671"), 200);
  bool confirmed = false;
  for (int i = 0; i < 400 && !confirmed; ++i) {
    for (auto& r : gw.fake->requests(carrier_type::twilio))
      confirmed = confirmed || (r.body.find("To=%2B13125552671") != std::string::npos &&
                                r.body.find("unsubscribed") != std::string::npos);
    if (!confirmed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(confirmed) << gw.proc->output();

  // A recipient with a message on record and a confirmation that stays queued (Twilio
  // answers 503): forget reaches both.
  auto sent = gw.send(c, R"(,"to":"+16175552671","body":"hi")");
  ASSERT_EQ(sent["status"], "sent") << json::serialize(sent);
  gw.fake->add_fault(fault{.kind = fault_kind::server_error, .carrier = carrier_type::twilio});
  ASSERT_EQ(stop("SMstopc002", "+16175552671"), 200);
  auto f = c.call(json::object{{"op", "forget"}, {"to", "+16175552671"}});
  ASSERT_EQ(f["ok"], true) << json::serialize(f);
  const auto erased = json::serialize(f["erased"]);
  const std::string sent_id(sent["message_id"].as_string());
  EXPECT_NE(erased.find("message:" + sent_id), std::string::npos) << erased;
  EXPECT_NE(erased.find("queued_reply:"), std::string::npos) << erased;
  EXPECT_EQ(cl.cli(on("stopgate:msg:" + sent_id), "EXISTS stopgate:msg:" + sent_id), "0");
}

}  // namespace
}  // namespace stopgate::test
