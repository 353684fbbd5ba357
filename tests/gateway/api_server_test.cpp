// The socket API end to end over real loopback sockets, with a fake dispatcher.
#include "tests/gateway/api_test_support.hpp"

#include "config/version.hpp"
#include "gateway/api/auth.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>

namespace api = stopgate::gateway::api;
using stopgate::test::api_harness;
using stopgate::test::loopback_settings;
using stopgate::test::tcp_client;
namespace json = boost::json;

namespace {

/// Waits (bounded) for a condition another thread makes true.
template <class F>
bool eventually(F f) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!f()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

std::string code_of(const json::object& o) {
  if (!o.contains("error")) return "";
  return std::string(o.at("error").at("code").as_string());
}

}  // namespace

TEST(ApiServer, PingAnswersPongAndVersion) {
  api_harness h(loopback_settings());
  ASSERT_FALSE(h.start_error) << h.start_error.message();
  tcp_client c(h.server->tcp_port());
  auto r = c.call(R"({"op":"ping","id":1})");
  EXPECT_EQ(r.at("id").as_int64(), 1);
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_TRUE(r.at("pong").as_bool());
  EXPECT_EQ(r.at("version").as_string(), stopgate::version());
  EXPECT_EQ(h.dispatch->calls.load(), 0);  // answered by the transport
}

TEST(ApiServer, IdsAreEchoedVerbatim) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  for (std::string id : {"\"req-1\"", "\"a\\\"b\\u00e9\"", "17", "-3", "1.50", "2.5e10",
                         "123456789012345678901234567890"}) {
    c.send(R"({"op":"echo","id":)" + id + "}\n");
    auto line = c.read_line();
    ASSERT_TRUE(line);
    EXPECT_EQ(line->rfind("{\"id\":" + id + ",\"ok\":true,", 0), 0u) << *line;
  }
}

TEST(ApiServer, PipelinedRequestsCompletingOutOfOrderAreEachAnsweredOnce) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += R"({"op":"hold","id":"r)" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}\n";
  c.send(batch);
  std::set<int> seen;
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r.at("ok").as_bool());
    int n = int(r.at("n").as_int64());
    EXPECT_EQ(r.at("id").as_string(), "r" + std::to_string(n));
    EXPECT_TRUE(seen.insert(n).second) << "answered twice: " << n;
    order.push_back(n);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));  // they really came back out of order
  EXPECT_EQ(h.server->stats().requests[std::size_t(api::op_kind::other)], 1000u);
}

TEST(ApiServer, MalformedRequestsGetTheirErrorCodes) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  auto r = c.call("this is not json");
  EXPECT_EQ(code_of(r), "bad_json");
  EXPECT_TRUE(r.at("id").is_null());
  EXPECT_FALSE(r.at("ok").as_bool());
  EXPECT_EQ(code_of(c.call("[1,2,3]")), "bad_json");
  r = c.call(R"({"id":5})");
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_EQ(r.at("id").as_int64(), 5);
  EXPECT_NE(r.at("error").at("message").as_string().find("op"), json::string::npos);
  r = c.call(R"({"id":true,"op":"ping"})");
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_NE(r.at("error").at("message").as_string().find("id"), json::string::npos);
  r = c.call(R"({"id":"u","op":"teleport"})");
  EXPECT_EQ(code_of(r), "unknown_op");
  EXPECT_EQ(r.at("id").as_string(), "u");
  EXPECT_EQ(code_of(c.call(R"({"id":1,"op":"send"})")), "unknown_op");
  EXPECT_EQ(code_of(c.call(R"({"id":2,"op":"fail"})")), "invalid_number");
  r = c.call(R"({"id":3,"op":"throw"})");
  EXPECT_EQ(code_of(r), "internal");
  EXPECT_EQ(r.at("id").as_int64(), 3);
  // The connection is still usable after all of that.
  EXPECT_TRUE(c.call(R"({"op":"ping"})").at("pong").as_bool());
  auto s = h.server->stats();
  EXPECT_EQ(s.errors[std::size_t(api::api_errc::bad_json)], 2u);
  EXPECT_EQ(s.errors[std::size_t(api::api_errc::internal)], 1u);
}

TEST(ApiServer, LineTooLongIsAnsweredAndTheConnectionStaysUsable) {
  auto s = loopback_settings();
  s->api.max_line_bytes = 1024;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  // A long line written in many small writes, so it spans many reads.
  std::string chunk(100, 'x');
  c.send(R"({"op":"echo","pad":")");
  for (int i = 0; i < 500; ++i) c.send(chunk);
  c.send("\"}\r\n");
  auto r = c.read_json();
  EXPECT_EQ(code_of(r), "line_too_long");
  EXPECT_TRUE(r.at("id").is_null());
  r = c.call(R"({"op":"echo","id":9})");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_EQ(r.at("id").as_int64(), 9);
  // \r\n framing works and a line just under the limit is fine.
  std::string big = R"({"op":"echo","id":10,"pad":")" + std::string(900, 'p') + "\"}\r\n";
  c.send(big);
  EXPECT_EQ(c.read_json().at("id").as_int64(), 10);
}

TEST(ApiServer, BackpressureBoundsInFlightHandlersAndDropsNothing) {
  auto s = loopback_settings();
  s->api.max_in_flight = 4;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  constexpr int total = 3000;  // ~80 KB: more than one read
  std::string batch;
  for (int i = 0; i < total; ++i) batch += R"({"op":"gate","id":)" + std::to_string(i) + "}\n";
  std::thread writer([&] { c.send(batch); });
  ASSERT_TRUE(eventually([&] { return h.dispatch->active_gates.load() == 4; }));
  // The server holds what it has read but takes no further lines while 4 are in flight.
  auto in = h.server->stats().bytes_in;
  EXPECT_LT(in, batch.size());
  EXPECT_EQ(h.dispatch->calls.load(), 4);
  EXPECT_EQ(h.server->stats().in_flight, 4);
  h.dispatch->open_gate();
  std::set<std::int64_t> ids;
  for (int i = 0; i < total; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r.contains("id"));
    ids.insert(r.at("id").as_int64());
  }
  writer.join();
  EXPECT_EQ(ids.size(), std::size_t(total));
  EXPECT_EQ(h.dispatch->max_active_gates.load(), 4);
  EXPECT_EQ(h.dispatch->calls.load(), total);
}

TEST(ApiServer, ManyPipelinedRequestsOfOneReadAreHandledTogetherAndEachAnsweredOnce) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  // 200 batchable requests mixed with inline answers (ping, errors) and a spawned request, in
  // one write: every line gets exactly one response.
  constexpr int total = 200;
  std::string lines;
  for (int i = 0; i < total; ++i) {
    // Odd ones are answered with text the handler wrote, even ones with a result object.
    const char* op = i % 2 ? "bwrite" : "bcheck";
    lines += R"({"op":")" + std::string(op) + R"(","id":"b)" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}\n";
    if (i % 50 == 0) lines += R"({"op":"ping","id":"p)" + std::to_string(i) + "\"}\n";
  }
  lines += R"({"op":"echo","id":"e"})" "\n" R"({"op":"nope","id":"u"})" "\n" "not json\n";
  c.send(lines);
  std::set<int> seen;
  int pongs = 0, echo = 0, unknown = 0, bad = 0;
  for (int i = 0; i < total + 4 + 3; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r.contains("id"));
    if (r.contains("pong")) {
      ++pongs;
    } else if (r.contains("echo")) {
      ++echo;
    } else if (code_of(r) == "unknown_op") {
      ++unknown;
    } else if (code_of(r) == "bad_json") {
      ++bad;
    } else {
      ASSERT_TRUE(r.at("ok").as_bool()) << json::serialize(r);
      int n = int(r.at("n").as_int64());
      EXPECT_EQ(r.at("id").as_string(), "b" + std::to_string(n));
      EXPECT_TRUE(seen.insert(n).second) << "answered twice: " << n;
      EXPECT_EQ(r.contains("text"), n % 2 == 1) << json::serialize(r);
    }
  }
  EXPECT_EQ(seen.size(), std::size_t(total));
  EXPECT_EQ(pongs, 4);
  EXPECT_EQ(echo, 1);
  EXPECT_EQ(unknown, 1);
  EXPECT_EQ(bad, 1);
  // Lines of one read went to the handler together, not one call per request.
  EXPECT_GT(h.dispatch->max_batch.load(), 1);
  EXPECT_LT(h.dispatch->batch_calls.load(), total);
  EXPECT_EQ(h.server->stats().in_flight, 0);
  // Nothing more is pending on the connection.
  EXPECT_TRUE(c.call(R"({"op":"ping","id":"last"})").at("pong").as_bool());
}

TEST(ApiServer, AnAnswerTheBatchHandlerWroteAsTextGoesOutByteForByte) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  c.send(R"({"op":"bwrite","id":"w1","n":7})" "\n" R"({"op":"bwrite","id":2,"n":[0]})" "\n");
  EXPECT_EQ(c.read_line().value_or(""), R"({"id":"w1","ok":true,"n":7,"text":true})");
  EXPECT_EQ(c.read_line().value_or(""), R"({"id":2,"ok":true,"n":[0],"text":true})");
}

TEST(ApiServer, BackpressureHoldsWithBatchedHandlingAndDropsNothing) {
  auto s = loopback_settings();
  s->api.max_in_flight = 4;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  constexpr int total = 3000;  // ~90 KB: more than one read
  std::string lines;
  for (int i = 0; i < total; ++i) lines += R"({"op":"bgate","id":)" + std::to_string(i) + R"(,"n":)" + std::to_string(i) + "}\n";
  std::thread writer([&] { c.send(lines); });
  ASSERT_TRUE(eventually([&] { return h.dispatch->active_gates.load() == 4; }));
  // The lines taken before the bound was reached were handed over; no further line is taken.
  EXPECT_LT(h.server->stats().bytes_in, lines.size());
  EXPECT_EQ(h.dispatch->calls.load(), 4);
  EXPECT_EQ(h.server->stats().in_flight, 4);
  h.dispatch->open_gate();
  std::set<std::int64_t> ids;
  for (int i = 0; i < total; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r.contains("id"));
    EXPECT_EQ(r.at("n"), r.at("id"));
    ids.insert(r.at("id").as_int64());
  }
  writer.join();
  EXPECT_EQ(ids.size(), std::size_t(total));
  EXPECT_EQ(h.dispatch->max_active_gates.load(), 4);
  EXPECT_LE(h.dispatch->max_batch.load(), 4);
  EXPECT_EQ(h.dispatch->calls.load(), total);
}

TEST(ApiServer, ABatchWhoseHandlerThrowsIsAnsweredInternalForEveryRequest) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  c.send(R"({"op":"bcheck","id":1,"n":1})" "\n" R"({"op":"bthrow","id":2,"n":2})" "\n" R"({"op":"bcheck","id":3,"n":3})" "\n");
  std::set<std::int64_t> ids;
  int internal = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r.contains("id")) << json::serialize(r);
    ids.insert(r.at("id").as_int64());
    if (code_of(r) == "internal") ++internal;
  }
  EXPECT_EQ(ids, (std::set<std::int64_t>{1, 2, 3}));
  // Whether the three came in one read or several, the throwing one is answered internal.
  EXPECT_GE(internal, 1);
  EXPECT_TRUE(c.call(R"({"op":"ping"})").at("pong").as_bool());
}
