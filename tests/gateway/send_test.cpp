// The `send` op and delivery-status callbacks end to end: the real stopgate binary, a real
// redis-server, the sandbox carrier's outbox, signed sandbox status callbacks.
#include "carriers/sandbox/signature.hpp"
#include "gateway/evidence/verify.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <future>
#include <thread>

namespace stopgate::test {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

const std::string webhook_secret = "sandbox-webhook-secret";

// Marketing windows and restricted days are off so that results do not depend on the time of
// day the test runs; frequency caps stay on (FL: 3 per 24 h).
std::string config_text(const temp_dir& d, const redis_server& r, int api_port, int http_port) {
  return "[server]\ndata_dir = \"" + d.path().string() +
         "/data\"\ninstance = \"gwS\"\nthreads = 2\n"
         "shutdown_grace_ms = 2000\n"
         "[api]\nlisten = \"127.0.0.1:" +
         std::to_string(api_port) +
         "\"\n"
         "[http]\nlisten = \"127.0.0.1:" +
         std::to_string(http_port) +
         "\"\n"
         "[redis]\nurl = \"" +
         r.tcp_url() +
         "\"\ntimeout_ms = 300\nreconnect_min_ms = 20\nreconnect_max_ms = 200\n"
         "[evidence]\nhmac_key = \"file:evidence.key\"\n"
         "[policy.marketing]\napply_calling_window = false\napply_restricted_days = false\n"
         "[carriers.sandbox]\ntype = \"sandbox\"\nwebhook_secret = \"" +
         webhook_secret +
         "\"\n"
         "[senders.acme]\nnumbers = [\"+14155552000\", \"+14155552002\"]\nroute = [\"sandbox\"]\n"
         "[senders.other]\nnumbers = [\"+14155552001\"]\nroute = [\"sandbox\"]\n"
         "[lists.internal]\nkind = \"internal\"\n";
}

struct gateway {
  const temp_dir& dir;
  int api_port = free_port();
  int http_port = free_port();
  std::unique_ptr<process> proc;

  gateway(const temp_dir& d, const redis_server& r) : dir(d) {
    auto cfg = d.write("gw.toml", config_text(d, r, api_port, http_port));
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", cfg.string()},
        d.path() / "gw.log");
  }
  line_client client() { return line_client(api_port); }
  // SIGTERM and wait: exit 0.
  void stop() {
    proc->signal(SIGTERM);
    auto code = proc->wait(std::chrono::seconds(15));
    ASSERT_TRUE(code) << proc->output();
    EXPECT_EQ(*code, 0) << proc->output();
  }
  std::filesystem::path data() const { return dir.path() / "data"; }
};

json::object send(line_client& c, const std::string& fields) {
  return c.call(json::parse(R"({"op":"send")" + fields + "}").as_object());
}

std::vector<json::object> outbox(const gateway& gw) {
  std::vector<json::object> out;
  std::ifstream f(gw.data() / "outbox.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  return out;
}

// Every evidence record, in chain order.
std::vector<json::object> evidence_records(const gateway& gw) {
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(gw.data() / "evidence"))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<json::object> out;
  for (auto& p : files) {
    std::ifstream f(p);
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) out.push_back(json::parse(line).as_object());
  }
  return out;
}

struct http_reply {
  int status = 0;
  std::string body;
};

http_reply post(int port, const std::string& path, const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n" + body;
  asio::write(s, asio::buffer(req), ec);
  std::string raw;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    raw.append(buf, n);
    if (ec) break;
  }
  http_reply r;
  if (raw.size() > 12) r.status = std::stoi(raw.substr(9, 3));
  if (auto p = raw.find("\r\n\r\n"); p != std::string::npos) r.body = raw.substr(p + 4);
  return r;
}

std::string http_get(int port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(req), ec);
  std::string raw;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    raw.append(buf, n);
    if (ec) break;
  }
  return raw;
}

// A sandbox status callback, signed with the configured secret (or with a wrong one).
http_reply status_callback(const gateway& gw, const json::object& update,
                           bool good_signature = true) {
  const auto body = json::serialize(update);
  const auto ts = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const auto sig =
      carriers::signature::sandbox_sign(good_signature ? webhook_secret : "wrong-secret", ts, body);
  return post(gw.http_port, "/v1/status/sandbox", body,
              {{"X-Stopgate-Signature", sig}, {"X-Stopgate-Timestamp", std::to_string(ts)}});
}

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

const std::string express_consent =
    R"(,"kind":"express_written","captured_at":"2026-01-02T03:04:05Z","source":{"method":"web_form","url":"https://acme.example/join","text":"I agree to receive marketing texts from Acme."})";

TEST(Send, SandboxSendReachesTheOutboxWithEvidenceBeforeAndAfterTheCarrier) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  auto a = send(
      c,
      R"(,"to":"(212) 555-2671","sender":"acme","purpose":"informational","body":"Your code is 1234")");
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["status"], "sent");
  EXPECT_EQ(a["carrier"], "sandbox");
  const auto mid = str(a["message_id"]);
  EXPECT_TRUE(mid.starts_with("msg_"));
  EXPECT_EQ(str(a["carrier_message_id"]), "sandbox-" + mid);
  EXPECT_TRUE(a["reasons"].as_array().empty());

  auto box = outbox(gw);
  ASSERT_EQ(box.size(), 1u);
  EXPECT_EQ(str(box[0]["message_id"]), mid);
  EXPECT_EQ(str(box[0]["to"]), "+12125552671");
  EXPECT_EQ(str(box[0]["from"]), "+14155552000");  // the sender's first number
  EXPECT_EQ(str(box[0]["body"]), "Your code is 1234");

  // `from` may name another number of the sender, not someone else's.
  auto b = send(
      c,
      R"(,"to":"+12125552671","sender":"acme","purpose":"informational","from":"+14155552002","body":"hi")");
  EXPECT_EQ(b["status"], "sent") << json::serialize(b);
  EXPECT_EQ(str(outbox(gw).back()["from"]), "+14155552002");

  // The message store knows the message and its carrier id.
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " status"), "queued");
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " sender"), "acme");
  EXPECT_EQ(r.cli("GET stopgate:msg:carrier:sandbox:sandbox-" + mid), mid);
  const auto ttl = std::stol(r.cli("TTL stopgate:msg:" + mid));
  EXPECT_GT(ttl, 29 * 86400);

  gw.stop();
  std::ifstream kf(gw.data() / "evidence.key");
  std::string key;
  std::getline(kf, key);
  auto v = evidence::verify_directory(gw.data() / "evidence", key);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->failure) << v->failure->describe();

  // The send record (with the body) comes before the carrier's answer.
  auto recs = evidence_records(gw);
  std::ptrdiff_t send_at = -1, result_at = -1;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto* m = recs[i].if_contains("message_id");
    if (!m || *m != mid.c_str()) continue;
    if (recs[i]["type"] == "send") {
      send_at = std::ptrdiff_t(i);
      EXPECT_EQ(recs[i]["body"], "Your code is 1234");
      EXPECT_EQ(recs[i]["from"], "+14155552000");
      EXPECT_EQ(recs[i]["decision"], "allow");
      EXPECT_TRUE(recs[i].contains("policy_version"));
    }
    if (recs[i]["type"] == "carrier_result") {
      result_at = std::ptrdiff_t(i);
      EXPECT_EQ(recs[i]["status"], "sent");
      EXPECT_EQ(recs[i]["carrier"], "sandbox");
      EXPECT_EQ(str(recs[i]["carrier_message_id"]), "sandbox-" + mid);
      EXPECT_EQ(recs[i]["attempts"].as_array().size(), 1u);
    }
  }
  ASSERT_GE(send_at, 0);
  ASSERT_GE(result_at, 0);
  EXPECT_LT(send_at, result_at);
}

TEST(Send, BlockedAndDeferredSendsNeverReachTheOutbox) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  // Marketing without consent: blocked.
  auto a = send(c, R"(,"to":"+13055552671","sender":"acme","body":"Sale!","campaign":"fall")");
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["status"], "blocked");
  EXPECT_EQ(a["reasons"].as_array(), json::array{"no_consent"});
  EXPECT_TRUE(outbox(gw).empty());

  // With consent: a Florida number takes 3 per 24 h per campaign; each send counts.
  auto cons = c.call(
      json::parse(R"({"op":"consent","to":"+13055552671","sender":"acme")" + express_consent + "}")
          .as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  for (int i = 0; i < 3; ++i) {
    auto s = send(c, R"(,"to":"+13055552671","sender":"acme","body":"Sale!","campaign":"fall")");
    EXPECT_EQ(s["status"], "sent") << json::serialize(s);
  }
  auto deferred =
      send(c, R"(,"to":"+13055552671","sender":"acme","body":"Sale!","campaign":"fall")");
  EXPECT_EQ(deferred["status"], "deferred") << json::serialize(deferred);
  EXPECT_EQ(deferred["reasons"].as_array(), json::array{"frequency_cap"});
  EXPECT_TRUE(deferred.contains("retry_at"));
  EXPECT_EQ(outbox(gw).size(), 3u);

  // Bad requests name the field and send nothing.
  auto code = [&](const std::string& fields) { return str(send(c, fields)["error"].at("code")); };
  EXPECT_EQ(code(R"(,"to":"+12125552671","sender":"acme")"), "bad_request");  // no body
  EXPECT_EQ(
      code(R"(,"to":"+12125552671","sender":"acme","body":")" + std::string(1601, 'x') + "\""),
      "bad_request");
  EXPECT_EQ(code(R"(,"to":"+12125552671","sender":"acme","body":"x","from":"+14155552001")"),
            "bad_request");
  EXPECT_EQ(code(R"(,"to":"+12125552671","sender":"acme","body":"x","carrier":"nope")"),
            "bad_request");
  EXPECT_EQ(code(R"(,"to":"+12125552671","body":"x")"), "bad_request");  // two senders
  EXPECT_EQ(code(R"(,"to":"12","sender":"acme","body":"x")"), "invalid_number");
  EXPECT_EQ(
      code(R"(,"to":"+12125552671","sender":"acme","body":"x","idempotency_key":"has space")"),
      "bad_request");
  EXPECT_EQ(outbox(gw).size(), 3u);
}

TEST(Send, IdempotencyKeyReturnsTheFirstOutcomeEvenAfterARestart) {
  redis_server r;
  temp_dir d;
  std::string mid;
  {
    gateway gw(d, r);
    auto c = gw.client();
    ASSERT_TRUE(c.connected()) << gw.proc->output();
    const std::string req =
        R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"one","idempotency_key":"order-17")";
    auto a = send(c, req);
    ASSERT_EQ(a["status"], "sent") << json::serialize(a);
    mid = str(a["message_id"]);
    auto b = send(c, req);
    EXPECT_EQ(b["status"], "sent");
    EXPECT_EQ(str(b["message_id"]), mid);
    EXPECT_EQ(b["idempotent_replay"], true);
    EXPECT_EQ(outbox(gw).size(), 1u);
    // Keys are scoped per sender: the same key for another sender is another message.
    auto other = send(
        c,
        R"(,"to":"+12125552671","sender":"other","purpose":"informational","body":"one","idempotency_key":"order-17")");
    EXPECT_EQ(other["status"], "sent");
    EXPECT_NE(str(other["message_id"]), mid);
    EXPECT_EQ(outbox(gw).size(), 2u);
    // A blocked outcome is the key's answer too, even once the block no longer applies.
    const std::string mkt =
        R"(,"to":"+12125552672","sender":"acme","body":"Sale","idempotency_key":"mkt-1")";
    EXPECT_EQ(send(c, mkt)["status"], "blocked");
    auto cons = c.call(json::parse(R"({"op":"consent","to":"+12125552672","sender":"acme")" +
                                   express_consent + "}")
                           .as_object());
    ASSERT_EQ(cons["ok"], true);
    EXPECT_EQ(send(c, mkt)["status"], "blocked");
    EXPECT_EQ(outbox(gw).size(), 2u);
    gw.stop();
  }
  gateway again(d, r);
  auto c = again.client();
  ASSERT_TRUE(c.connected()) << again.proc->output();
  auto after = send(
      c,
      R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"one","idempotency_key":"order-17")");
  EXPECT_EQ(after["status"], "sent") << json::serialize(after);
  EXPECT_EQ(str(after["message_id"]), mid);
  EXPECT_EQ(outbox(again).size(), 2u);
}

// A key claimed together with the facts of a number that has a consent: the facts read in the
// same round trip are the ones the policy uses (this request once killed the gateway).
TEST(Send, IdempotencyKeyToAConsentedNumberSendsOnceAndTheGatewayLives) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto cons = c.call(json::parse(R"({"op":"consent","to":"+12125552673","sender":"acme")" +
                                 express_consent + "}")
                         .as_object());
  ASSERT_EQ(cons["ok"], true) << json::serialize(cons);
  const std::string req =
      R"(,"to":"+12125552673","sender":"acme","body":"Sale","idempotency_key":"consented-1")";
  auto a = send(c, req);
  ASSERT_EQ(a["status"], "sent") << json::serialize(a) << gw.proc->output();
  auto b = send(c, req);
  EXPECT_EQ(b["status"], "sent") << json::serialize(b);
  EXPECT_EQ(b["idempotent_replay"], true);
  EXPECT_EQ(str(b["message_id"]), str(a["message_id"]));
  EXPECT_EQ(outbox(gw).size(), 1u);
  gw.stop();
}

TEST(Send, AClaimLeftInProgressIsNeverResentAndAPendingOneIsAwaited) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();

  // A gateway that crashed mid-send (claim from 1970): outcome unknown, nothing sent.
  r.cli(
      R"(SET stopgate:send:idem:acme:crashed '{"state":"pending","message_id":"msg_lost","started":1}')");
  auto a = send(
      c,
      R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"x","idempotency_key":"crashed")");
  ASSERT_EQ(a["ok"], true) << json::serialize(a);
  EXPECT_EQ(a["status"], "failed");
  EXPECT_EQ(a["message_id"], "msg_lost");
  EXPECT_EQ(a["error"].at("code"), "outcome_unknown");
  EXPECT_TRUE(outbox(gw).empty());

  // A claim that is still in progress elsewhere: the repeat waits for its answer.
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  r.cli(
      R"(SET stopgate:send:idem:acme:busy '{"state":"pending","message_id":"msg_first","started":)" +
      std::to_string(now_us) + "}'");
  auto waiting = std::async(std::launch::async, [&] {
    line_client c2(gw.api_port);
    return send(
        c2,
        R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"x","idempotency_key":"busy")");
  });
  r.cli(
      R"(SET stopgate:send:idem:acme:busy '{"state":"done","response":{"status":"sent","message_id":"msg_first","reasons":[],"carrier":"sandbox"}}' XX KEEPTTL)");
  auto b = waiting.get();
  EXPECT_EQ(b["status"], "sent") << json::serialize(b);
  EXPECT_EQ(b["message_id"], "msg_first");
  EXPECT_TRUE(outbox(gw).empty());
}

TEST(Send, StatusCallbacksUpdateTheMessageOnceAndNeedAValidSignature) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = send(c, R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"x")");
  ASSERT_EQ(a["status"], "sent") << json::serialize(a);
  const auto mid = str(a["message_id"]);
  const auto cmid = str(a["carrier_message_id"]);

  // A bad signature: 403 and nothing changes.
  auto forged = status_callback(gw, {{"message_id", cmid}, {"status", "failed"}}, false);
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " status"), "queued");

  auto ok = status_callback(gw, {{"message_id", cmid}, {"status", "delivered"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " status"), "delivered");
  // A retried delivery is acknowledged and not applied twice; a late "sent" does not undo it.
  auto again = status_callback(gw, {{"message_id", cmid}, {"status", "delivered"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, "duplicate\n");
  EXPECT_EQ(status_callback(gw, {{"message_id", cmid}, {"status", "sent"}}).status, 200);
  EXPECT_EQ(r.cli("HGET stopgate:msg:" + mid + " status"), "delivered");
  // A body that is not a status update: 400.
  EXPECT_EQ(status_callback(gw, {{"status", "delivered"}}).status, 400);
  // An unknown carrier name: refused like a bad signature (403).
  EXPECT_EQ(post(gw.http_port, "/v1/status/nope", "{}", {}).status, 403);
  // Every outcome is counted for /metrics.
  auto metrics = http_get(gw.http_port, "/metrics");
  EXPECT_NE(metrics.find(R"(stopgate_status_callbacks_total{result="duplicate"} 1)"),
            std::string::npos)
      << metrics;
  // The forgery and the unknown carrier name.
  EXPECT_NE(metrics.find(R"(stopgate_status_callbacks_total{result="bad_signature"} 2)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(stopgate_send_total{status="sent"} 1)"), std::string::npos);

  gw.stop();
  int status_records = 0;
  for (auto& rec : evidence_records(gw))
    if (rec["type"] == "status" && rec.contains("message_id") && rec["message_id"] == mid.c_str())
      ++status_records;
  EXPECT_EQ(status_records, 2);  // delivered once, sent once; not the duplicate or the forgery
}

TEST(Send, AnOptOutCodeInAStatusCallbackBlocksTheNextSend) {
  redis_server r;
  temp_dir d;
  gateway gw(d, r);
  auto c = gw.client();
  ASSERT_TRUE(c.connected()) << gw.proc->output();
  auto a = send(c, R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"x")");
  ASSERT_EQ(a["status"], "sent") << json::serialize(a);
  auto cb = status_callback(gw, {{"message_id", str(a["carrier_message_id"])},
                                 {"status", "undelivered"},
                                 {"error_code", "recipient_opted_out"}});
  EXPECT_EQ(cb.status, 200) << cb.body;

  auto next =
      send(c, R"(,"to":"+12125552671","sender":"acme","purpose":"informational","body":"y")");
  EXPECT_EQ(next["status"], "blocked") << json::serialize(next);
  EXPECT_EQ(next["reasons"].as_array(), json::array{"optout"});
  EXPECT_EQ(outbox(gw).size(), 1u);
  // Only this sender's: another sender may still write.
  EXPECT_EQ(send(c, R"(,"to":"+12125552671","sender":"other","purpose":"informational","body":"z")")
                ["status"],
            "sent");

  auto lk = c.call(json::object{{"op", "lookup"}, {"to", "+12125552671"}});
  ASSERT_EQ(lk["optouts"].as_array().size(), 1u) << json::serialize(lk);
  EXPECT_EQ(lk["optouts"].as_array()[0].at("source"), "carrier:sandbox");
  EXPECT_EQ(lk["optouts"].as_array()[0].at("sender"), "acme");
}

}  // namespace
}  // namespace stopgate::test
