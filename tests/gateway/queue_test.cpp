// The durable outbound queue end to end (docs/QUEUE.md): the real stopgate binary (one or two),
// a real redis-server, and the fake carrier (tools/fake_carrier, in this process) speaking
// Twilio's API, counting every request it gets.
#include "carriers/signature/crypto.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/server.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace stopgate::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

// An RFC 3339 time `d` from now.
std::string in(std::chrono::milliseconds d) {
  const auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() + d);
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", int(t.time_since_epoch().count() % 1000));
  return std::string(buf) + ms;
}

struct fake_twilio {
  std::unique_ptr<fake_carrier::server> fake;
  fake_twilio() {
    fake_carrier::server_options o;
    o.creds.twilio.account_sid = "AC0123456789abcdef0123456789abcdef";
    o.threads = 2;
    fake = fake_carrier::server::start(o).value();
  }
  ~fake_twilio() { fake->stop(); }
  // How many requests carried each body ("Body=" of the form).
  std::map<std::string, int> bodies() const {
    std::map<std::string, int> out;
    for (auto& r : fake->requests()) {
      auto p = r.body.find("Body=");
      if (p == std::string::npos) continue;
      auto e = r.body.find('&', p);
      ++out[r.body.substr(p + 5, e == std::string::npos ? std::string::npos : e - p - 5)];
    }
    return out;
  }
};

struct gateway {
  const temp_dir& dir;
  std::string name;
  int api_port = free_port();
  int http_port = free_port();
  std::unique_ptr<process> proc;

  gateway(const temp_dir& d, const redis_server& r, const fake_twilio& f, std::string instance,
          const std::string& extra_sender = "", const std::string& extra = "")
      : dir(d), name(std::move(instance)) {
    const auto& c = f.fake->creds();
    const auto cfg =
        "[server]\ndata_dir = \"" + data().string() + "\"\ninstance = \"" + name +
        "\"\nthreads = 2\nshutdown_grace_ms = 3000\n"
        "[api]\nlisten = \"127.0.0.1:" + std::to_string(api_port) +
        "\"\n[http]\nlisten = \"127.0.0.1:" + std::to_string(http_port) +
        "\"\npublic_url = \"http://127.0.0.1:" + std::to_string(http_port) +
        "\"\n[redis]\nurl = \"" + r.tcp_url() +
        "\"\ntimeout_ms = 500\nreconnect_min_ms = 20\nreconnect_max_ms = 200\n"
        "[evidence]\nhmac_key = \"file:evidence.key\"\n"
        "[policy.marketing]\napply_calling_window = false\napply_restricted_days = false\n"
        "[queue]\npoll_ms = 20\nsubmit_lease_ms = 10000\n" +
        // A 1 s lease unless the test sets its own.
        (("\n" + extra).find("\nlease_ms") == std::string::npos ? "lease_ms = 1000\n" : "") +
        extra +
        "[carriers.twilio]\ntype = \"twilio\"\nbase_url = \"" + f.fake->base_url() +
        "\"\naccount_sid = \"" + c.twilio.account_sid + "\"\nauth_token = \"" +
        c.twilio.auth_token +
        "\"\nretries = 0\ntimeout_ms = 3000\nrate_per_second = 10000\nmax_in_flight = 512\n"
        "circuit_failure_threshold = 1000\n"
        "[senders.acme]\nnumbers = [\"+14155552000\"]\nroute = [\"twilio\"]\n" + extra_sender +
        "[lists.internal]\nkind = \"internal\"\n";
    auto path = d.write(name + ".toml", cfg);
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", path.string()},
        d.path() / (name + ".log"));
  }
  std::filesystem::path data() const { return dir.path() / ("data-" + name); }
  line_client client() { return line_client(api_port); }
  void stop() {
    proc->signal(SIGTERM);
    auto code = proc->wait(std::chrono::seconds(20));
    ASSERT_TRUE(code) << proc->output();
    EXPECT_EQ(*code, 0) << proc->output();
  }
  // Every evidence record, in chain order.
  std::vector<json::object> evidence() const {
    std::vector<std::filesystem::path> files;
    for (auto& e : std::filesystem::directory_iterator(data() / "evidence"))
      if (e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<json::object> out;
    for (auto& p : files) {
      std::ifstream f(p);
      for (std::string line; std::getline(f, line);) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);  // a line cut by SIGKILL is not a record
        if (!ec && v.is_object()) out.push_back(v.as_object());
      }
    }
    return out;
  }
};

// One gateway on its own Redis and fake carrier, with a socket-API connection. Tests name its
// parts with plain references (lambdas capture them; clang 14 refuses structured bindings).
struct one_gateway {
  redis_server r;
  fake_twilio f;
  temp_dir d;
  gateway gw;
  line_client c;
  explicit one_gateway(const std::string& sender_extra = "", const std::string& extra = "")
      : gw(d, r, f, "gwQ", sender_extra, extra), c(gw.client()) {}
};

json::object send(line_client& c, const std::string& fields) {
  return c.call(json::parse(R"({"op":"send","sender":"acme","purpose":"informational")" + fields +
                            "}")
                    .as_object());
}

// The types of a message's records, in order.
std::vector<std::string> life(const std::vector<json::object>& recs, const std::string& id) {
  std::vector<std::string> out;
  for (auto& r : recs)
    if (auto* m = r.if_contains("message_id"); m && *m == id.c_str()) out.push_back(str(r.at("type")));
  return out;
}

template <class F>
bool eventually(F f, std::chrono::milliseconds limit = 15s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

std::int64_t depth(const redis_server& r) {
  return std::stoll(r.cli("ZCARD {sg:q}:due"));
}

TEST(Queue, AQueuedSendIsAnsweredAtOnceThenRelayedOnceWithItsWholeLifeInTheEvidence) {
  one_gateway t;
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  auto a = send(c, R"(,"to":"+12125552671","body":"q1","mode":"queue")");
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["status"], "queued");
  const auto id = str(a["message_id"]);
  EXPECT_TRUE(id.starts_with("msg_"));
  EXPECT_FALSE(a.contains("retry_at"));
  ASSERT_TRUE(eventually([&] { return f.bodies()["q1"] == 1; })) << gw.proc->output();
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; }));
  EXPECT_TRUE(eventually([&] { return r.cli("HGET stopgate:msg:" + id + " status") == "queued"; }))
      << "the carrier's answer is the message's status";

  // A sync send beside it is unchanged, and the fields that only a queue can honour are refused.
  auto s = send(c, R"(,"to":"+12125552672","body":"s1")");
  EXPECT_EQ(s["status"], "sent") << json::serialize(s);
  auto bad = send(c, R"(,"to":"+12125552672","body":"s2","send_at":")" + in(60s) + "\"");
  EXPECT_EQ(bad["ok"], false);
  EXPECT_EQ(bad["error"].at("code"), "bad_request");
  EXPECT_NE(str(bad["error"].at("message")).find("send_at"), std::string::npos);
  EXPECT_EQ(f.bodies().count("s2"), 0u);

  gw.stop();
  EXPECT_EQ(life(gw.evidence(), id),
            (std::vector<std::string>{"queued", "released", "carrier_result"}));
  // `stopgatectl evidence export --message-id` shows the same life, in order.
  const auto out = t.d.path() / "export.jsonl";
  ASSERT_EQ(std::system((built_program("tools/stopgatectl/stopgatectl") + " evidence export --message-id " +
                         id + " " + (gw.data() / "evidence").string() + " > " + out.string() +
                         " 2>/dev/null")
                            .c_str()),
            0);
  std::vector<json::object> exported;
  std::ifstream ef(out);
  for (std::string line; std::getline(ef, line);) exported.push_back(json::parse(line).as_object());
  EXPECT_EQ(life(exported, id), (std::vector<std::string>{"queued", "released", "carrier_result"}));
  for (auto& rec : gw.evidence())
    if (rec.if_contains("message_id") && rec.at("message_id") == id.c_str() &&
        rec.at("type") == "queued") {
      EXPECT_EQ(rec.at("body"), "q1");
      EXPECT_EQ(rec.at("decision"), "allow");
      EXPECT_EQ(rec.at("mode"), "queue");
    }
}

TEST(Queue, AnOptOutBetweenQueueingAndReleaseCancelsTheMessageWithADecisionRecord) {
  one_gateway t;
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  const auto at = in(1500ms);
  auto a = send(c, R"(,"to":"+12125552671","body":"opted","mode":"queue","send_at":")" + at + "\"");
  auto b = send(c, R"(,"to":"+12125552673","body":"kept","mode":"queue","send_at":")" + at + "\"");
  ASSERT_EQ(a["status"], "queued") << json::serialize(a);
  ASSERT_EQ(b["status"], "queued") << json::serialize(b);
  EXPECT_TRUE(a.contains("retry_at")) << "held until send_at";
  auto o = c.call(json::parse(R"({"op":"optout","to":"+12125552671","sender":"acme"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  EXPECT_EQ(depth(r), 2);
  EXPECT_TRUE(f.bodies().empty()) << "nothing goes out before send_at";

  ASSERT_TRUE(eventually([&] { return f.bodies()["kept"] == 1 && depth(r) == 0; }))
      << gw.proc->output();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(f.bodies().count("opted"), 0u);
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + str(a["message_id"]) + " status"), "cancelled");

  gw.stop();
  const auto recs = gw.evidence();
  EXPECT_EQ(life(recs, str(a["message_id"])),
            (std::vector<std::string>{"queued", "decision", "cancelled"}));
  for (auto& rec : recs)
    if (rec.if_contains("message_id") && rec.at("message_id") == a["message_id"] &&
        rec.at("type") == "decision") {
      EXPECT_EQ(rec.at("decision"), "deny");
      EXPECT_EQ(rec.at("stage"), "release");
      EXPECT_EQ(rec.at("reasons").as_array().at(0), "optout");
    }
}

TEST(Queue, APerNumberRateLimitSpacesSendsAndWhatCannotGoBeforeExpiresAtIsDropped) {
  one_gateway t("rate_per_number_per_second = 1\n");
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  const auto until = in(2500ms);
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    auto a = send(c, ",\"to\":\"+1212555267" + std::to_string(i) + "\",\"body\":\"r" +
                         std::to_string(i) + "\",\"mode\":\"queue\",\"expires_at\":\"" + until + "\"");
    ASSERT_EQ(a["status"], "queued") << json::serialize(a);
    ids.push_back(str(a["message_id"]));
  }
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; }, 20s)) << gw.proc->output();
  gw.stop();

  // One send a second from the number: at most three fit before expires_at, at least two.
  const auto reqs = f.fake->requests();
  ASSERT_GE(reqs.size(), 2u);
  ASSERT_LE(reqs.size(), 3u);
  for (std::size_t i = 1; i < reqs.size(); ++i)
    EXPECT_GE(reqs[i].received_at - reqs[i - 1].received_at, 900ms);
  const auto recs = gw.evidence();
  int sent = 0, expired = 0;
  for (auto& id : ids) {
    auto l = life(recs, id);
    if (l == std::vector<std::string>{"queued", "released", "carrier_result"}) ++sent;
    if (l == std::vector<std::string>{"queued", "expired"}) ++expired;
  }
  EXPECT_EQ(sent, int(reqs.size()));
  EXPECT_EQ(sent + expired, 5) << "every message ends sent or expired";
}

TEST(Queue, AnIdempotencyKeyAnswersTheQueuedOutcomeAndQueuesOnce) {
  one_gateway t;
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  const std::string req = R"(,"to":"+12125552671","body":"once","mode":"queue","idempotency_key":"k1")";
  auto a = send(c, req);
  auto b = send(c, req);
  ASSERT_EQ(a["status"], "queued") << json::serialize(a);
  EXPECT_EQ(b["status"], "queued") << json::serialize(b);
  EXPECT_EQ(b["idempotent_replay"], true);
  EXPECT_EQ(a["message_id"], b["message_id"]);
  ASSERT_TRUE(eventually([&] { return f.bodies()["once"] == 1 && depth(r) == 0; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(f.bodies()["once"], 1);
}

TEST(Queue, ForgetTakesAHeldMessageOutOfTheQueue) {
  one_gateway t;
  redis_server& r = t.r; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = send(c, R"(,"to":"+12125552671","body":"later","mode":"queue","send_at":")" + in(1h) + "\"");
  ASSERT_EQ(a["status"], "queued") << json::serialize(a);
  EXPECT_EQ(depth(r), 1);
  auto fg = c.call(json::parse(R"({"op":"forget","to":"+12125552671"})").as_object());
  ASSERT_EQ(fg["ok"], true) << json::serialize(fg);
  EXPECT_EQ(depth(r), 0);
  EXPECT_EQ(r.cli("HLEN {sg:q}:msg"), "0") << "the body left Redis";
  bool listed = false;
  for (auto& e : fg["erased"].as_array())
    if (str(e) == "queued_message:" + str(a["message_id"])) listed = true;
  EXPECT_TRUE(listed) << json::serialize(fg);
}

json::object campaign(line_client& c, const std::string& name, const std::string& action) {
  return c.call(json::parse(R"({"op":"campaign","sender":"acme","campaign":")" + name +
                            R"(","action":")" + action + "\"}")
                    .as_object());
}

TEST(Queue, PauseHoldsACampaignResumeReleasesItAndCancelEndsEachMessageWithEvidence) {
  one_gateway t;
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  auto p = campaign(c, "spring", "pause");
  ASSERT_EQ(p["ok"], true) << json::serialize(p);
  EXPECT_EQ(p["state"], "paused");
  EXPECT_EQ(p["changed"], true);
  for (int i = 0; i < 5; ++i) {
    auto a = send(c, ",\"to\":\"+1212555267" + std::to_string(i) + "\",\"body\":\"p" +
                         std::to_string(i) + "\",\"mode\":\"queue\",\"campaign\":\"spring\"");
    ASSERT_EQ(a["status"], "queued") << json::serialize(a);
  }
  json::object st;
  ASSERT_TRUE(eventually([&] {
    st = campaign(c, "spring", "status");
    auto* h = st["held"].as_object().if_contains("campaign_paused");
    return h && *h == 5;
  })) << json::serialize(st);
  EXPECT_EQ(st["in_queue"], 5);
  EXPECT_EQ(st["accepted"], 5);
  EXPECT_EQ(st["changed"], false);
  EXPECT_TRUE(f.bodies().empty()) << "a paused campaign sends nothing";
  auto qs = c.call(json::parse(R"({"op":"queue_stats"})").as_object());
  EXPECT_EQ(qs["depth"], 5) << json::serialize(qs);
  EXPECT_EQ(qs["states"].at("held:campaign_paused"), 5) << json::serialize(qs);

  auto res = campaign(c, "spring", "resume");
  EXPECT_EQ(res["state"], "active");
  ASSERT_TRUE(eventually([&] { return f.bodies().size() == 5 && depth(r) == 0; }, 5s))
      << "resumed at once, not after the hourly look";
  ASSERT_TRUE(eventually([&] { return campaign(c, "spring", "status")["sent"] == 5; }));
  st = campaign(c, "spring", "status");
  EXPECT_EQ(st["in_queue"], 0);
  EXPECT_EQ(st["sent_last_minute"], 5);

  // Cancel: messages waiting for their send_at end now, each with a `cancelled` record.
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto a = send(c, ",\"to\":\"+1212555268" + std::to_string(i) +
                         "\",\"body\":\"x\",\"mode\":\"queue\",\"campaign\":\"fall\",\"send_at\":\"" +
                         in(1h) + "\"");
    ASSERT_EQ(a["status"], "queued") << json::serialize(a);
    ids.push_back(str(a["message_id"]));
  }
  auto cx = campaign(c, "fall", "cancel");
  EXPECT_EQ(cx["state"], "cancelled");
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; })) << gw.proc->output();
  ASSERT_TRUE(eventually([&] { return campaign(c, "fall", "status")["cancelled"] == 3; }));
  EXPECT_EQ(f.bodies().count("x"), 0u);
  gw.stop();
  const auto recs = gw.evidence();
  for (auto& id : ids) EXPECT_EQ(life(recs, id), (std::vector<std::string>{"queued", "cancelled"}));
}

TEST(Queue, ARedisRestartWithTheAofMidDrainLosesNoQueuedMessage) {
  redis_server r(/*appendonly=*/true);
  fake_twilio f;
  fake_carrier::fault slow;
  slow.kind = fake_carrier::fault_kind::latency;
  slow.delay = 100ms;
  f.fake->add_fault(slow);
  temp_dir d;
  gateway gw(d, r, f, "gwQ", "", "max_in_flight = 4\n");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  constexpr int n = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    // Half go at once, half a second later: some are due, some held, some being relayed.
    auto x = send(c, ",\"to\":\"+1212555" + std::to_string(4000 + i) + "\",\"body\":\"a" +
                         std::to_string(i) + "\",\"mode\":\"queue\"" +
                         (i % 2 ? ",\"send_at\":\"" + in(1500ms) + "\"" : std::string()));
    ASSERT_EQ(x["status"], "queued") << json::serialize(x);
    ids.push_back(str(x["message_id"]));
  }
  ASSERT_TRUE(eventually([&] { return !f.fake->requests().empty(); }));
  r.stop();  // SIGTERM: the AOF is flushed; the gateway loses its connections mid-drain
  std::this_thread::sleep_for(300ms);
  r.start();
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; }, 40s)) << gw.proc->output();
  gw.stop();

  auto sent = f.bodies();
  const auto recs = gw.evidence();
  for (int i = 0; i < n; ++i) {
    const auto body = "a" + std::to_string(i);
    EXPECT_LE(sent[body], 1) << body << " was sent twice";
    bool unknown = false;
    for (auto& rec : recs)
      if (rec.if_contains("message_id") && rec.at("message_id") == ids[i].c_str() &&
          rec.if_contains("outcome_unknown") && rec.at("outcome_unknown") == true)
        unknown = true;
    EXPECT_TRUE(sent[body] == 1 || unknown) << body << " was lost";
  }
}

TEST(Queue, ABatchQueuesEachMessageOnItsOwnAndAnswersInOrder) {
  one_gateway t;
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  ASSERT_EQ(c.call(json::parse(R"({"op":"optout","to":"+12125552672","sender":"acme"})").as_object())["ok"], true);
  json::array msgs;
  for (int i = 0; i < 300; ++i)
    msgs.push_back(json::object{{"to", "+1212555" + std::to_string(2600 + i)},
                                {"body", "b" + std::to_string(i)}});
  msgs[5].as_object()["to"] = "not a number";
  msgs[6].as_object()["idempotency_key"] = "batch-6";
  json::object req{{"op", "send_batch"}, {"sender", "acme"}, {"purpose", "marketing"},
                   {"mode", "queue"}, {"campaign", "bulk"}, {"messages", msgs}};
  // Marketing needs consent: give it to all but one number (which is then blocked).
  for (int i = 0; i < 300; ++i) {
    if (i == 7) continue;
    auto cs = c.call(json::parse(R"({"op":"consent","sender":"acme","kind":"express_written","captured_at":"2026-01-01T00:00:00Z","source":{"method":"web_form","text":"I agree"},"to":"+1212555)" +
                                 std::to_string(2600 + i) + "\"}").as_object());
    ASSERT_EQ(cs["ok"], true) << json::serialize(cs);
  }
  auto a = c.call(req);
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  const auto& res = a["results"].as_array();
  ASSERT_EQ(res.size(), 300u);
  EXPECT_EQ(res[5].at("error").at("code"), "invalid_number");
  EXPECT_EQ(res[7].at("status"), "blocked") << json::serialize(res[7]);
  EXPECT_EQ(res[72].at("status"), "blocked") << "the opted-out number";
  int queued = 0;
  for (auto& x : res)
    if (x.as_object().if_contains("status") && x.at("status") == "queued") ++queued;
  EXPECT_EQ(queued, 297);
  ASSERT_TRUE(eventually([&] { return depth(r) == 0 && f.fake->requests().size() == 297; }))
      << gw.proc->output();
  // The same batch again: only the message with a key is answered from its first outcome.
  msgs.clear();
  msgs.push_back(json::object{{"to", "+12125552606"}, {"body", "b6"}, {"idempotency_key", "batch-6"}});
  req["messages"] = msgs;
  auto again = c.call(req);
  EXPECT_EQ(again["results"].as_array().at(0).at("idempotent_replay"), true) << json::serialize(again);
  EXPECT_EQ(again["results"].as_array().at(0).at("message_id"), res[6].at("message_id"));
  auto bad = c.call(json::parse(R"({"op":"send_batch","sender":"acme","messages":[{"to":"+12125552671","body":"x","colour":"red"}]})").as_object());
  EXPECT_EQ(bad["error"].at("code"), "bad_request");
  EXPECT_NE(str(bad["error"].at("message")).find("messages[0].colour"), std::string::npos) << json::serialize(bad);
}

TEST(Queue, StatusEventsTellTheCampaignSystemEachStepFromACursorAcrossARestart) {
  redis_server r;
  fake_twilio f;
  temp_dir d;
  std::string next = "0";
  std::vector<std::string> ids;
  auto events = [&](line_client& c, int wait_ms) {
    auto a = c.call(json::object{{"op", "events"}, {"after", next}, {"wait_ms", wait_ms}});
    EXPECT_EQ(a["ok"], true) << json::serialize(a);
    next = str(a["next"]);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& e : a["events"].as_array())
      out.emplace_back(str(e.at("message_id")), str(e.at("status")));
    return out;
  };
  {
    gateway gw(d, r, f, "gwQ");
    auto c = gw.client();
    ASSERT_TRUE(c.connected()) << gw.proc->output();
    auto a = send(c, R"(,"to":"+12125552671","body":"e1","mode":"queue","campaign":"ev")");
    auto b = send(c, R"(,"to":"+12125552672","body":"e2","mode":"queue","send_at":")" + in(1h) + "\"");
    ids = {str(a["message_id"]), str(b["message_id"])};
    ASSERT_TRUE(eventually([&] { return f.bodies()["e1"] == 1; }));
    std::vector<std::pair<std::string, std::string>> seen;
    ASSERT_TRUE(eventually([&] {
      for (auto& e : events(c, 0)) seen.push_back(e);
      return seen.size() >= 3;
    }));
    EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                        {ids[0], "queued"}, {ids[1], "queued"}, {ids[0], "sent"}}));
    EXPECT_TRUE(events(c, 0).empty()) << "the cursor moved past them";
    gw.stop();
  }
  // Another gateway (a restart) serves the rest from the same cursor: a long poll returns as
  // soon as the next event exists.
  gateway gw(d, r, f, "gwQ");
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  std::thread forgetter([&] {
    std::this_thread::sleep_for(300ms);
    line_client c2(gw.api_port);
    c2.call(json::parse(R"({"op":"campaign","sender":"acme","campaign":"none","action":"status"})").as_object());
    auto x = send(c2, R"(,"to":"+12125552673","body":"e3","mode":"queue","expires_at":")" + in(1h) + "\"");
    EXPECT_EQ(x["status"], "queued");
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto got = events(c, 10000);
  forgetter.join();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().second, "queued");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "answered at the event, not the timeout";
  auto bad = c.call(json::object{{"op", "events"}, {"after", "yesterday"}});
  EXPECT_EQ(bad["error"].at("code"), "bad_request");
}

TEST(Queue, ASendersStatusWebhookGetsEachEventSignedAtLeastOnceEvenAfterAGatewayDies) {
  redis_server r;
  fake_twilio f;
  temp_dir d;
  receiver hook(500);  // refuses at first
  const std::string secret = "0123456789abcdef-status";
  const std::string sender_extra =
      "status_url = \"" + hook.url() + "\"\nstatus_secret = \"" + secret + "\"\n";
  std::string id;
  {
    gateway a(d, r, f, "gwA", sender_extra, "status_webhook_retry_ms = 500\n");
    auto c = a.client();
    ASSERT_TRUE(c.connected()) << a.proc->output();
    auto x = send(c, R"(,"to":"+12125552671","body":"h1","mode":"queue","campaign":"hooked")");
    ASSERT_EQ(x["status"], "queued") << json::serialize(x);
    id = str(x["message_id"]);
    ASSERT_TRUE(eventually([&] { return hook.requests().size() >= 2; })) << a.proc->output();
    a.proc->signal(SIGKILL);  // dies with both events unacknowledged
    a.proc->wait(5s);
  }
  hook.set_status(200);
  gateway b(d, r, f, "gwB", sender_extra, "status_webhook_retry_ms = 500\n");
  ASSERT_TRUE(b.client().connected()) << b.proc->output();
  std::set<std::string> delivered;
  ASSERT_TRUE(eventually([&] {
    for (auto& q : hook.requests()) {
      auto body = json::parse(q.body).as_object();
      if (body.at("message_id") != id.c_str()) continue;
      // Signed: t=SECONDS,v1=HEX(HMAC-SHA256(secret, "SECONDS." + body)).
      const auto sig = q.header("X-Stopgate-Signature");
      const auto t = sig.substr(2, sig.find(',') - 2);
      const auto want = carriers::signature::hex_encode(carriers::signature::hmac(
          carriers::signature::digest_alg::sha256, secret, t + "." + q.body));
      EXPECT_EQ(sig.substr(sig.find(",v1=") + 4), want) << sig;
      EXPECT_FALSE(q.header("X-Stopgate-Event-Id").empty());
      delivered.insert(str(body.at("status")));
    }
    return delivered.count("queued") && delivered.count("sent");
  }, 20s)) << b.proc->output();
  // Acknowledged: nothing stays pending once B delivered them.
  ASSERT_TRUE(eventually([&] {
    return r.cli("XPENDING {sg:hook:acme} hooks").rfind("0", 0) == 0;
  })) << r.cli("XPENDING {sg:hook:acme} hooks");
}

// A message waiting in memory for its rate-limit slot is checked again when the slot comes: an
// opt-out that arrived during the wait cancels it (before the review mends it went out).
TEST(Queue, AnOptOutDuringARateLimitWaitCancelsTheMessage) {
  one_gateway t("rate_per_number_per_second = 1\n", "lease_ms = 4000\n");
  redis_server& r = t.r; fake_twilio& f = t.f; gateway& gw = t.gw; line_client& c = t.c;
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = send(c, R"(,"to":"+12125552671","body":"first","mode":"queue")");
  auto b = send(c, R"(,"to":"+12125552672","body":"waits","mode":"queue")");
  ASSERT_EQ(b["status"], "queued") << json::serialize(b);
  // The second has booked the slot a second after the first and waits for it.
  ASSERT_TRUE(eventually([&] { return f.bodies()["first"] == 1; })) << gw.proc->output();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(r.cli("HGET {sg:q}:state " + str(b["message_id"])).rfind("claimed|", 0), 0u)
      << "claimed and waiting";
  auto o = c.call(json::parse(R"({"op":"optout","to":"+12125552672","sender":"acme"})").as_object());
  ASSERT_EQ(o["ok"], true) << json::serialize(o);
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; })) << gw.proc->output();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(f.bodies().count("waits"), 0u) << "sent although opted out during its wait";
  gw.stop();
  EXPECT_EQ(life(gw.evidence(), str(b["message_id"])),
            (std::vector<std::string>{"queued", "decision", "cancelled"}));
  (void)a;
}

TEST(Queue, AGatewayKilledMidDrainLeavesEveryMessageSentOnceOrOutcomeUnknown) {
  redis_server r;
  fake_twilio f;
  // Every carrier request takes 300 ms, so the first gateway dies with requests under way.
  fake_carrier::fault slow;
  slow.kind = fake_carrier::fault_kind::latency;
  slow.delay = 300ms;
  f.fake->add_fault(slow);
  temp_dir d;
  // Only A drains at first: B starts once everything is queued.
  gateway a(d, r, f, "gwA", "", "max_in_flight = 8\n");
  auto ca = a.client();
  ASSERT_TRUE(ca.connected()) << a.proc->output();
  constexpr int n = 60;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto x = send(ca, ",\"to\":\"+1212555" + std::to_string(3000 + i) + "\",\"body\":\"k" +
                          std::to_string(i) + "\",\"mode\":\"queue\"");
    ASSERT_EQ(x["status"], "queued") << json::serialize(x);
    ids.push_back(str(x["message_id"]));
  }
  ASSERT_TRUE(eventually([&] { return f.fake->requests().size() >= 10; })) << a.proc->output();
  a.proc->signal(SIGKILL);
  a.proc->wait(5s);
  gateway b(d, r, f, "gwB", "", "max_in_flight = 8\n");
  auto cb = b.client();
  ASSERT_TRUE(cb.connected()) << b.proc->output();
  // The claims A held run out (1 s lease; 10 s for those it was sending).
  ASSERT_TRUE(eventually([&] { return depth(r) == 0; }, 40s)) << b.proc->output();
  b.stop();

  auto sent = f.bodies();
  auto ra = a.evidence(), rb = b.evidence();
  std::vector<json::object> all(ra.begin(), ra.end());
  all.insert(all.end(), rb.begin(), rb.end());
  int unknown = 0;
  for (int i = 0; i < n; ++i) {
    const auto body = "k" + std::to_string(i);
    EXPECT_LE(sent[body], 1) << body << " was sent twice";
    bool was_unknown = false;
    for (auto& rec : all)
      if (rec.if_contains("message_id") && rec.at("message_id") == ids[i].c_str() &&
          rec.at("type") == "carrier_result" && rec.if_contains("outcome_unknown") &&
          rec.at("outcome_unknown") == true)
        was_unknown = true;
    unknown += was_unknown;
    EXPECT_TRUE(sent[body] == 1 || was_unknown) << body << " was lost";
  }
  EXPECT_GT(unknown, 0) << "A died with carrier requests under way";
  EXPECT_LE(unknown, 16) << "at most A's requests in flight (8 per thread, 2 threads)";
}

}  // namespace
}  // namespace stopgate::test
