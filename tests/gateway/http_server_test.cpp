// The HTTP server end to end over real loopback sockets, with a fake dispatcher and fake
// readiness/metrics providers.
#include "gateway/api/auth.hpp"
#include "gateway/http/error.hpp"
#include "gateway/http/server.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace api = stopgate::gateway::api;
namespace gw = stopgate::gateway::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

/// Ops: echo (the request and key name), fail (returns error `code`), throw, gate (waits
/// until open_gate()); stats needs admin; echo/fail/throw/gate need check.
class fake_dispatcher : public api::dispatcher {
 public:
  std::atomic<int> calls{0};
  std::atomic<int> in_gate{0};
  std::atomic<bool> gate_open{false};

  asio::awaitable<api::op_result> async_handle(std::string_view op, const json::object& req,
                                               const api::request_context& ctx) override {
    ++calls;
    if (op == "echo") co_return json::object{{"echo", req}, {"key", ctx.key_name}, {"loopback", ctx.loopback}};
    if (op == "fail") {
      std::string_view code = req.at("code").as_string();
      for (int e = 1; e < api::api_errc_count; ++e) {
        if (api::to_string(api::api_errc(e)) == code) co_return api::op_error{api::api_errc(e), "failed on purpose"};
      }
      co_return api::op_error{api::api_errc::internal, "no such code"};
    }
    if (op == "throw") throw std::runtime_error("boom");
    if (op == "gate") {
      ++in_gate;
      asio::steady_timer t(co_await asio::this_coro::executor);
      while (!gate_open.load()) {
        t.expires_after(2ms);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      --in_gate;
      co_return json::object{{"gated", true}};
    }
    co_return json::object{{"op", op}};
  }

  std::optional<api::op_spec> find_op(std::string_view op) const override {
    if (op == "echo" || op == "fail" || op == "throw" || op == "gate") return api::op_spec{stopgate::config::role::check};
    return api::standard_op_spec(op);
  }
};

std::shared_ptr<stopgate::config::settings> loopback_settings() {
  auto s = std::make_shared<stopgate::config::settings>();
  s->http.listen = stopgate::config::listen_address{"127.0.0.1", 0};
  return s;
}

std::string hex(const api::key_digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::shared_ptr<stopgate::config::settings> keyed_settings() {
  auto s = loopback_settings();
  s->api_keys.push_back({"crm", hex(api::sha256_digest("crm-secret")), std::uint8_t(stopgate::config::role::check)});
  s->api_keys.push_back({"ops", hex(api::sha256_digest("ops-secret")),
                         std::uint8_t(std::uint8_t(stopgate::config::role::admin) |
                                      std::uint8_t(stopgate::config::role::check))});
  return s;
}

/// A running http_server on its own io_context threads.
class harness {
 public:
  explicit harness(std::shared_ptr<stopgate::config::settings> s, gw::providers p = {},
                   const std::function<void(gw::http_server&)>& before_start = {}, std::size_t threads = 1)
      : settings(std::move(s)), dispatch(std::make_shared<fake_dispatcher>()) {
    for (std::size_t i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    std::vector<asio::io_context*> raw;
    for (auto& c : contexts_) raw.push_back(c.get());
    server = std::make_unique<gw::http_server>(raw, settings, dispatch, std::move(p));
    if (before_start) before_start(*server);
    start_error = server->start();
    for (auto& c : contexts_) threads_.emplace_back([io = c.get()] { io->run(); });
  }
  ~harness() {
    if (!stopped_) stop(100ms).wait();
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    // Before the contexts (members below) go: the server holds I/O objects of theirs.
    server.reset();
    // Pending coroutine frames (accept loops, connections) hold the server's state, and with
    // it the dispatcher, whose I/O objects live on the first context: the last of those frames
    // must go with the first context, so the contexts go last to first.
    while (!contexts_.empty()) contexts_.pop_back();
  }
  std::future<void> stop(std::chrono::milliseconds grace) {
    stopped_ = true;
    return asio::co_spawn(*contexts_.front(), server->async_stop(grace), asio::use_future);
  }
  std::uint16_t port() const { return server->port(); }

  std::shared_ptr<stopgate::config::settings> settings;
  std::shared_ptr<fake_dispatcher> dispatch;
  std::unique_ptr<gw::http_server> server;
  boost::system::error_code start_error;

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

using response = bhttp::response<bhttp::string_body>;

/// A blocking HTTP/1.1 client over a plain or TLS stream.
template <class Stream>
class basic_client {
 public:
  template <class... Args>
  explicit basic_client(Args&&... args) : stream_(io_, std::forward<Args>(args)...) {}

  Stream& stream() { return stream_; }

  response call(bhttp::verb method, std::string_view target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == bhttp::verb::post) {
      req.body() = std::move(body);
      req.prepare_payload();
    }
    bhttp::write(stream_, req);
    return *read();
  }
  response get(std::string_view target) { return call(bhttp::verb::get, target); }
  response post(std::string_view target, std::string body,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    return call(bhttp::verb::post, target, std::move(body), std::move(headers));
  }

  void send_raw(std::string_view bytes) { asio::write(stream_, asio::buffer(bytes)); }

  /// The next response; nullopt when the server closed or reset the connection.
  std::optional<response> read() {
    response res;
    boost::system::error_code ec;
    bhttp::read(stream_, buffer_, res, ec);
    if (ec) return std::nullopt;
    return res;
  }

  /// True once the server has closed the connection (end of stream or reset).
  bool closed_by_server() {
    char byte;
    boost::system::error_code ec;
    stream_.read_some(asio::buffer(&byte, 1), ec);
    return bool(ec);
  }

 private:
  asio::io_context io_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

class client : public basic_client<tcp::socket> {
 public:
  explicit client(std::uint16_t port) { stream().connect({asio::ip::make_address("127.0.0.1"), port}); }
};

json::object body_json(const response& r) { return json::parse(r.body()).as_object(); }
std::string code_of(const response& r) {
  auto o = body_json(r);
  if (!o.contains("error")) return "";
  return std::string(o.at("error").at("code").as_string());
}

std::string fmt_hex(std::size_t n) {
  char buf[24];
  return std::string(buf, std::size_t(std::snprintf(buf, sizeof buf, "%zx", n)));
}

template <class F>
bool eventually(F f) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!f()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST(HttpServer, HealthzAnswersOk) {
  harness h(loopback_settings());
  ASSERT_FALSE(h.start_error) << h.start_error.message();
  ASSERT_NE(h.port(), 0);
  client c(h.port());
  auto r = c.get("/healthz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "ok\n");
  EXPECT_EQ(r[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_TRUE(r.keep_alive());
}

TEST(HttpServer, ReadyzFollowsTheProvider) {
  std::atomic<bool> redis{true};
  gw::providers p;
  p.ready = [&] {
    gw::readiness r;
    r.redis_ok = redis.load();
    r.lists_loaded = redis.load();
    if (!redis.load()) r.missing = {"redis", "list:federal"};
    return r;
  };
  harness h(loopback_settings(), p);
  client c(h.port());
  auto r = c.get("/readyz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(body_json(r).at("ready").as_bool());

  redis = false;
  r = c.get("/readyz");
  EXPECT_EQ(r.result_int(), 503);
  auto o = body_json(r);
  EXPECT_FALSE(o.at("ready").as_bool());
  EXPECT_FALSE(o.at("redis_ok").as_bool());
  EXPECT_FALSE(o.at("lists_loaded").as_bool());
  EXPECT_EQ(o.at("missing").as_array(), (json::array{"redis", "list:federal"}));
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  harness h(loopback_settings());
  client c(h.port());
  auto r = c.get("/nope");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(code_of(r), "not_found");
  r = c.get("/v1/ops");
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[bhttp::field::allow], "POST");
  EXPECT_EQ(code_of(r), "method_not_allowed");
  r = c.post("/healthz", "x");
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[bhttp::field::allow], "GET");
  EXPECT_EQ(h.dispatch->calls.load(), 0);
}

TEST(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  harness h(loopback_settings());
  {
    client c(h.port());
    for (int i = 0; i < 5; ++i) {
      auto r = c.get("/healthz");
      ASSERT_EQ(r.result_int(), 200);
      EXPECT_TRUE(r.keep_alive());
    }
    EXPECT_EQ(c.post("/v1/ops", R"({"op":"echo","id":1})").result_int(), 200);
    // Two pipelined requests in one write are answered in order.
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(c.read()->result_int(), 200);
    EXPECT_EQ(c.read()->result_int(), 404);
  }
  auto s = h.server->stats();
  EXPECT_EQ(s.connections_total, 1u);
  EXPECT_EQ(s.requests_for(h.server->route_index("/healthz"), 200), 6u);
  EXPECT_EQ(s.requests_for(h.server->route_index("/v1/ops"), 200), 1u);
  EXPECT_EQ(s.requests_for(gw::unmatched_route, 404), 1u);
  EXPECT_GT(s.bytes_in, 0u);
  EXPECT_GT(s.bytes_out, 0u);
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  harness h(loopback_settings());
  client c(h.port());
  auto r = c.call(bhttp::verb::get, "/healthz", {}, {{"Connection", "close"}});
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST(HttpServer, Http10ClosesAfterTheResponse) {
  harness h(loopback_settings());
  client c(h.port());
  c.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version(), 10u);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(HttpServer, SeveralEventLoopsShareThePort) {
  harness h(loopback_settings(), {}, {}, 3);
  ASSERT_FALSE(h.start_error);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&, i] {
      client c(h.port());
      for (int k = 0; k < 3; ++k) {
        auto r = c.post("/v1/ops", R"({"op":"echo","id":)" + std::to_string(i * 10 + k) + "}");
        if (r.result_int() == 200 && body_json(r).at("id").as_int64() == i * 10 + k) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 36);
  auto s = h.server->stats();
  EXPECT_EQ(s.connections_total, 12u);
  EXPECT_EQ(s.requests_for(h.server->route_index("/v1/ops"), 200), 36u);
}

// ---- /v1/ops ------------------------------------------------------------------------------

TEST(HttpOps, WithoutKeysLoopbackGetsEveryRoleAndIdsAreEchoed) {
  harness h(loopback_settings());
  client c(h.port());
  auto r = c.post("/v1/ops", R"({"op":"echo","id":"req-7","to":"+14155552671"})");
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[bhttp::field::content_type], "application/json");
  auto o = body_json(r);
  EXPECT_EQ(o.at("id").as_string(), "req-7");
  EXPECT_TRUE(o.at("ok").as_bool());
  EXPECT_EQ(o.at("echo").at("to").as_string(), "+14155552671");
  EXPECT_TRUE(o.at("loopback").as_bool());
  // The id is echoed byte for byte, numbers included.
  r = c.post("/v1/ops", R"({"op":"echo","id":1.50})");
  EXPECT_EQ(r.body().rfind(R"({"id":1.50,"ok":true,)", 0), 0u) << r.body();
  EXPECT_EQ(c.post("/v1/ops", R"({"op":"stats"})").result_int(), 200);  // admin too
  auto ping = body_json(c.post("/v1/ops", R"({"op":"ping","id":2})"));
  EXPECT_TRUE(ping.at("pong").as_bool());
  EXPECT_EQ(h.dispatch->calls.load(), 3);  // ping is answered by the transport
}

TEST(HttpOps, BearerKeysAreRequiredWhenConfigured) {
  harness h(keyed_settings());
  client c(h.port());
  auto r = c.post("/v1/ops", R"({"op":"echo","id":1})");
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_EQ(code_of(r), "unauthenticated");
  EXPECT_NE(r[bhttp::field::www_authenticate].find("Bearer"), beast::string_view::npos);
  EXPECT_FALSE(body_json(r).at("ok").as_bool());

  r = c.post("/v1/ops", R"({"op":"echo","id":1})", {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_EQ(code_of(r), "unauthenticated");
  r = c.post("/v1/ops", R"({"op":"echo","id":1})", {{"Authorization", "Basic Y3JtLXNlY3JldA=="}});
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_EQ(h.dispatch->calls.load(), 0);

  r = c.post("/v1/ops", R"({"op":"echo","id":1})", {{"Authorization", "Bearer crm-secret"}});
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(body_json(r).at("key").as_string(), "crm");  // the dispatcher sees the key name
  r = c.post("/v1/ops", R"({"op":"echo"})", {{"authorization", "bearer   crm-secret"}});
  EXPECT_EQ(r.result_int(), 200);

  // A key without the op's role.
  r = c.post("/v1/ops", R"({"op":"stats","id":"s"})", {{"Authorization", "Bearer crm-secret"}});
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_EQ(code_of(r), "forbidden");
  EXPECT_EQ(body_json(r).at("id").as_string(), "s");
  r = c.post("/v1/ops", R"({"op":"stats"})", {{"Authorization", "Bearer ops-secret"}});
  EXPECT_EQ(r.result_int(), 200);
  // auth reports who the key is.
  auto who = body_json(c.post("/v1/ops", R"({"op":"auth"})", {{"Authorization", "Bearer ops-secret"}}));
  EXPECT_EQ(who.at("key").as_string(), "ops");
  EXPECT_EQ(who.at("roles").as_array(), (json::array{"check", "admin"}));
}

TEST(HttpOps, ReloadedKeysApplyToTheNextRequest) {
  harness h(loopback_settings());
  client c(h.port());
  EXPECT_EQ(c.post("/v1/ops", R"({"op":"echo"})").result_int(), 200);
  h.server->update_settings(keyed_settings());
  EXPECT_EQ(c.post("/v1/ops", R"({"op":"echo"})").result_int(), 401);
  EXPECT_EQ(c.post("/v1/ops", R"({"op":"echo"})", {{"Authorization", "Bearer crm-secret"}}).result_int(), 200);
}

TEST(HttpOps, ErrorCodesMapToHttpStatuses) {
  harness h(loopback_settings());
  client c(h.port());
  auto r = c.post("/v1/ops", R"({"op":"echo",)");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(code_of(r), "bad_json");
  r = c.post("/v1/ops", R"([1,2])");
  EXPECT_EQ(code_of(r), "bad_json");
  r = c.post("/v1/ops", R"({"id":3})");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_EQ(body_json(r).at("id").as_int64(), 3);
  r = c.post("/v1/ops", R"({"op":"teleport","id":4})");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(code_of(r), "unknown_op");
  EXPECT_EQ(h.dispatch->calls.load(), 0);

  struct expectation {
    const char* code;
    unsigned status;
  };
  for (auto [code, status] : {expectation{"invalid_number", 400}, expectation{"bad_request", 400},
                              expectation{"batch_too_large", 400}, expectation{"forbidden", 403},
                              expectation{"overloaded", 503}, expectation{"store_unavailable", 503},
                              expectation{"internal", 500}}) {
    r = c.post("/v1/ops", std::string(R"({"op":"fail","id":"f","code":")") + code + "\"}");
    EXPECT_EQ(r.result_int(), status) << code;
    EXPECT_EQ(code_of(r), code);
    EXPECT_EQ(body_json(r).at("id").as_string(), "f");
    if (std::string_view(code) == "overloaded") {
      EXPECT_EQ(r[bhttp::field::retry_after], "1");
    }
  }
  r = c.post("/v1/ops", R"({"op":"throw","id":9})");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(code_of(r), "internal");
  EXPECT_EQ(c.get("/healthz").result_int(), 200);  // the connection is still usable
}

// ---- limits -------------------------------------------------------------------------------

TEST(HttpLimits, BodyOverTheLimitIs413AndNothingIsDispatched) {
  auto s = loopback_settings();
  s->http.max_body_bytes = 1000;
  harness h(s);
  {
    // Declared too large: refused from the header alone, before the body arrives.
    client c(h.port());
    c.send_raw("POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"op\":\"echo\"");
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 413);
    EXPECT_EQ(code_of(*r), "body_too_large");
    EXPECT_FALSE(r->keep_alive());
  }
  {
    // Chunked, so the size is only known while reading.
    client c(h.port());
    std::string chunk(800, ' ');
    std::string raw = "POST /v1/ops HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) raw += "320\r\n" + chunk + "\r\n";
    raw += "0\r\n\r\n";
    c.send_raw(raw);
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 413);
  }
  {
    // At the limit is fine.
    client c(h.port());
    std::string body = R"({"op":"echo","pad":")" + std::string(1000 - 22, 'x') + "\"}";
    ASSERT_EQ(body.size(), 1000u);
    EXPECT_EQ(c.post("/v1/ops", body).result_int(), 200);
  }
  EXPECT_EQ(h.dispatch->calls.load(), 1);
}

TEST(HttpLimits, OversizedHeadersAre431) {
  auto s = loopback_settings();
  s->http.max_header_bytes = 1024;
  harness h(s);
  client c(h.port());
  auto r = c.call(bhttp::verb::get, "/healthz", {}, {{"X-Big", std::string(4000, 'a')}});
  EXPECT_EQ(r.result_int(), 431);
  EXPECT_EQ(code_of(r), "headers_too_large");
  EXPECT_TRUE(c.closed_by_server());
  client d(h.port());
  EXPECT_EQ(d.call(bhttp::verb::get, "/healthz", {}, {{"X-Small", std::string(500, 'a')}}).result_int(), 200);
}

// A chunk-size line may carry extensions, and a chunked body may end with trailers; the
// parser holds either whole until its end arrives. Both are bounded by max_header_bytes before
// authentication or routing: the answer comes while the client is still sending.
TEST(HttpLimits, AnOversizedChunkExtensionIsRefusedBeforeItsEndArrives) {
  auto s = keyed_settings();
  s->http.max_header_bytes = 1024;
  s->http.read_timeout_ms = 5000;
  std::atomic<int> hook_calls{0};
  harness h(s, {}, [&](gw::http_server& server) {
    ASSERT_FALSE(server.add_route(bhttp::verb::post, "/v1/inbound/",
                                  [&](const gw::request&) -> asio::awaitable<gw::response> {
                                    ++hook_calls;
                                    co_return gw::response::text(200, "ok");
                                  }));
  });
  for (std::string_view target : {"/v1/ops", "/v1/inbound/sandbox"}) {
    client c(h.port());
    c.send_raw("POST " + std::string(target) +
               " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=");
    // 256 KiB of one extension value, never ended by CRLF: an unbounded server would wait for
    // the line end (and the read timeout) holding all of it.
    const std::string piece(16384, 'a');
    for (int i = 0; i < 16; ++i) c.send_raw(piece);
    auto r = c.read();
    ASSERT_TRUE(r) << target << ": no answer before the read timeout";
    EXPECT_EQ(r->result_int(), 400) << target;
    EXPECT_EQ(code_of(*r), "chunk_header_too_large") << target << " " << r->body();
    EXPECT_FALSE(r->keep_alive());
    EXPECT_TRUE(c.closed_by_server());
  }
  EXPECT_EQ(h.dispatch->calls.load(), 0);
  EXPECT_EQ(hook_calls.load(), 0);
}

TEST(HttpLimits, ChunkExtensionsCountTowardsOneBudgetPerRequest) {
  auto s = loopback_settings();
  s->http.max_header_bytes = 1024;
  harness h(s);
  const std::string body = R"({"op":"echo"})";
  // The body in one chunk, then one-space chunks (JSON allows trailing whitespace), each
  // chunk-size line with an extension of `ext_bytes`.
  auto chunked = [&](std::size_t ext_bytes, int chunks) {
    const std::string ext = ";e=" + std::string(ext_bytes, 'x') + "\r\n";
    std::string raw = "POST /v1/ops HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    raw += fmt_hex(body.size()) + ext + body + "\r\n";
    for (int i = 1; i < chunks; ++i) raw += "1" + ext + " \r\n";
    return raw + "0\r\n\r\n";
  };
  {
    // Each line is within the limit; together they are not.
    client c(h.port());
    c.send_raw(chunked(600, 3));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 400);
    EXPECT_EQ(code_of(*r), "chunk_header_too_large") << r->body();
  }
  {
    // Extensions within the budget are read and ignored.
    client c(h.port());
    c.send_raw(chunked(100, 3));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200) << r->body();
  }
  EXPECT_EQ(h.dispatch->calls.load(), 1);
}

TEST(HttpLimits, OversizedTrailersAre431BeforeTheirEndArrives) {
  auto s = keyed_settings();
  s->http.max_header_bytes = 1024;
  s->http.read_timeout_ms = 5000;
  harness h(s);
  {
    client c(h.port());
    c.send_raw(
        "POST /v1/ops HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n");
    // Trailer fields, never ended by the empty line.
    for (int i = 0; i < 4096; ++i)
      c.send_raw("X-Trailer-" + std::to_string(i) + ": " + std::string(48, 'v') + "\r\n");
    auto r = c.read();
    ASSERT_TRUE(r) << "no answer before the read timeout";
    EXPECT_EQ(r->result_int(), 431);
    EXPECT_EQ(code_of(*r), "headers_too_large") << r->body();
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // A small trailer is fine (and the request then meets the key check).
    client c(h.port());
    c.send_raw(
        "POST /v1/ops HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "d\r\n{\"op\":\"echo\"}\r\n0\r\nX-Trailer: 1\r\n\r\n");
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 401);
  }
  EXPECT_EQ(h.dispatch->calls.load(), 0);
}

TEST(HttpLimits, MalformedRequestIs400) {
  harness h(loopback_settings());
  client c(h.port());
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400);
  EXPECT_EQ(code_of(*r), "bad_request");
}

TEST(HttpLimits, SlowClientIsClosedAfterTheReadTimeout) {
  auto s = loopback_settings();
  s->http.read_timeout_ms = 300;
  harness h(s);
  client c(h.port());
  auto start = std::chrono::steady_clock::now();
  // Half a request, then silence.
  c.send_raw("POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"op\":");
  EXPECT_TRUE(c.closed_by_server());  // blocks until the server gives up
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 10s);
  EXPECT_EQ(h.dispatch->calls.load(), 0);

  // An idle keep-alive connection is closed by the same deadline.
  client idle(h.port());
  EXPECT_EQ(idle.get("/healthz").result_int(), 200);
  EXPECT_TRUE(idle.closed_by_server());
}

TEST(HttpLimits, MaxConnectionsClosesTheExtraOnes) {
  auto s = loopback_settings();
  s->http.max_connections = 2;
  harness h(s);
  auto a = std::make_unique<client>(h.port());
  client b(h.port());
  ASSERT_EQ(a->get("/healthz").result_int(), 200);
  ASSERT_EQ(b.get("/healthz").result_int(), 200);
  client extra(h.port());
  EXPECT_TRUE(extra.closed_by_server());
  EXPECT_GE(h.server->stats().connections_rejected, 1u);
  EXPECT_EQ(b.get("/healthz").result_int(), 200);  // the admitted ones are unaffected

  a.reset();  // frees a slot once the server notices
  ASSERT_TRUE(eventually([&] { return h.server->stats().connections_open == 1; }));
  client next(h.port());
  EXPECT_EQ(next.get("/healthz").result_int(), 200);
}

TEST(HttpLimits, ExpectContinueGets100BeforeTheBody) {
  harness h(loopback_settings());
  client c(h.port());
  std::string body = R"({"op":"echo","id":5})";
  c.send_raw("POST /v1/ops HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n");
  std::string interim;
  asio::read_until(c.stream(), asio::dynamic_buffer(interim), "\r\n\r\n");
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
  c.send_raw(body);
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(body_json(*r).at("id").as_int64(), 5);
}

// ---- route hook ---------------------------------------------------------------------------

TEST(HttpRoutes, HookRoutesGetTheRawRequest) {
  auto s = loopback_settings();
  s->http.public_url = "https://gw.example.com";
  std::mutex mu;
  struct seen_request {
    std::string path, query, body, signature, content_type, public_url;
    bool loopback = false;
  } seen;
  auto hook = [&](const gw::request& req) -> asio::awaitable<gw::response> {
    std::lock_guard lock(mu);
    seen = {std::string(req.path), std::string(req.query), std::string(req.body),
            std::string(req.header("x-twilio-signature")), std::string(req.header("CONTENT-TYPE")),
            req.public_url, req.loopback};
    co_return gw::response::text(200, "<Response/>");
  };
  harness h(s, {}, [&](gw::http_server& server) {
    ASSERT_FALSE(server.add_route(bhttp::verb::post, "/v1/inbound/", hook));
    ASSERT_FALSE(server.add_route(bhttp::verb::post, "/v1/inbound/special/", [](const gw::request&) -> asio::awaitable<gw::response> {
      co_return gw::response::text(202, "special");
    }));
    ASSERT_FALSE(server.add_route(bhttp::verb::post, "/v1/status/", [](const gw::request&) -> asio::awaitable<gw::response> {
      throw std::runtime_error("handler bug");
      co_return gw::response{};
    }));
    EXPECT_EQ(server.add_route(bhttp::verb::post, "/v1/inbound/", hook), gw::http_errc::route_taken);
    EXPECT_EQ(server.add_route(bhttp::verb::post, "no-slash", hook), gw::http_errc::bad_route);
  });
  ASSERT_FALSE(h.start_error);
  EXPECT_EQ(h.server->add_route(bhttp::verb::post, "/late/", hook), gw::http_errc::already_started);

  client c(h.port());
  // Bytes a re-encoding would change: NUL, invalid UTF-8, '+', CRLF.
  std::string raw_body("Body=STOP+now%21&x=\0\xff\r\nend", 27);
  auto r = c.post("/v1/inbound/twilio?Foo=1&b=%20", raw_body,
                  {{"X-Twilio-Signature", "abc+/="}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "<Response/>");
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen.path, "/v1/inbound/twilio");
    EXPECT_EQ(seen.query, "Foo=1&b=%20");
    EXPECT_EQ(seen.body, raw_body);
    EXPECT_EQ(seen.signature, "abc+/=");
    EXPECT_EQ(seen.content_type, "application/x-www-form-urlencoded");
    EXPECT_EQ(seen.public_url, "https://gw.example.com/v1/inbound/twilio?Foo=1&b=%20");
    EXPECT_TRUE(seen.loopback);
  }
  EXPECT_EQ(c.post("/v1/inbound/special/x", "").body(), "special");  // longest prefix wins
  auto e = c.post("/v1/status/telnyx", "{}");
  EXPECT_EQ(e.result_int(), 500);
  EXPECT_EQ(code_of(e), "internal");
  auto m = c.get("/v1/inbound/twilio");
  EXPECT_EQ(m.result_int(), 405);
  EXPECT_EQ(m[bhttp::field::allow], "POST");
  auto stats = h.server->stats();
  EXPECT_EQ(stats.requests_for(h.server->route_index("/v1/inbound/"), 200), 1u);
  EXPECT_EQ(stats.requests_for(h.server->route_index("/v1/status/"), 500), 1u);
}

// ---- metrics ------------------------------------------------------------------------------

namespace {

struct parsed_sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

/// A strict reader of the text format 0.0.4 (what Prometheus accepts); fails the test on
/// any line it does not understand.
struct exposition {
  std::map<std::string, std::string> help, type;
  std::vector<parsed_sample> samples;

  std::string label(const parsed_sample& s, const std::string& name) const {
    for (auto& [k, v] : s.labels)
      if (k == name) return v;
    return "";
  }
};

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

exposition parse_exposition(const std::string& text) {
  exposition e;
  std::size_t pos = 0;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      auto sp = rest.find(' ');
      EXPECT_NE(sp, std::string::npos) << line;
      std::string name = rest.substr(0, sp), value = rest.substr(sp + 1);
      if (line[2] == 'H') {
        std::string unescaped;
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (value[i] == '\\') {
            ++i;
            EXPECT_TRUE(i < value.size() && (value[i] == '\\' || value[i] == 'n')) << line;
            unescaped.push_back(value[i] == 'n' ? '\n' : '\\');
          } else {
            unescaped.push_back(value[i]);
          }
        }
        EXPECT_FALSE(e.help.count(name)) << "HELP twice for " << name;
        e.help[name] = unescaped;
      } else {
        EXPECT_TRUE(value == "counter" || value == "gauge" || value == "histogram") << line;
        EXPECT_FALSE(e.type.count(name)) << "TYPE twice for " << name;
        e.type[name] = value;
      }
      continue;
    }
    EXPECT_NE(line.front(), '#') << line;
    parsed_sample s;
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i], i == 0)) s.name.push_back(line[i++]);
    EXPECT_FALSE(s.name.empty()) << line;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string lname, lvalue;
        while (i < line.size() && line[i] != '=') lname.push_back(line[i++]);
        EXPECT_TRUE(i + 1 < line.size() && line[i + 1] == '"') << line;
        i += 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            EXPECT_TRUE(line[i] == '\\' || line[i] == '"' || line[i] == 'n') << line;
            lvalue.push_back(line[i] == 'n' ? '\n' : line[i]);
          } else {
            lvalue.push_back(line[i]);
          }
          ++i;
        }
        ++i;  // closing quote
        s.labels.emplace_back(lname, lvalue);
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    EXPECT_TRUE(i < line.size() && line[i] == ' ') << line;
    std::string value = line.substr(i + 1);
    if (value == "+Inf") {
      s.value = INFINITY;
    } else {
      std::size_t used = 0;
      s.value = std::stod(value, &used);
      EXPECT_EQ(used, value.size()) << line;
    }
    // Every sample belongs to a family declared before it.
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string suf(suffix);
      if (!e.type.count(family) && family.size() > suf.size() &&
          family.compare(family.size() - suf.size(), suf.size(), suf) == 0) {
        family = family.substr(0, family.size() - suf.size());
      }
    }
    EXPECT_TRUE(e.type.count(family)) << "no TYPE before " << line;
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace

TEST(HttpMetrics, ExpositionParsesAndEscapes) {
  auto latency = std::make_shared<gw::histogram>(std::vector<double>{0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.001, 0.002, 0.05, 3.0}) latency->observe(v);
  gw::providers p;
  p.metrics = [latency] {
    std::vector<gw::metric_family> out;
    out.push_back({"stopgate_decisions_total", "Decisions by reason.\nBackslash: \\ here.",
                   gw::metric_type::counter,
                   {{"", {{"reason", "quiet_hours"}}, 12},
                    {"", {{"reason", "we\"ird\\label\nvalue"}}, 1}}});
    out.push_back({"stopgate_redis_up", "1 when Redis answers.", gw::metric_type::gauge, {{"", {}, 1}}});
    gw::metric_family h{"stopgate_check_latency_seconds", "Check latency.", gw::metric_type::histogram, {}};
    gw::append_histogram_samples(h, latency->snapshot(), {{"op", "check"}});
    out.push_back(std::move(h));
    return out;
  };
  harness hs(loopback_settings(), p);
  client c(hs.port());
  ASSERT_EQ(c.get("/healthz").result_int(), 200);
  auto r = c.get("/metrics");
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_EQ(std::string(r[bhttp::field::content_type]).rfind("text/plain; version=0.0.4", 0), 0u);
  auto e = parse_exposition(r.body());

  EXPECT_EQ(e.help.at("stopgate_decisions_total"), "Decisions by reason.\nBackslash: \\ here.");
  EXPECT_EQ(e.type.at("stopgate_decisions_total"), "counter");
  EXPECT_EQ(e.type.at("stopgate_redis_up"), "gauge");
  EXPECT_EQ(e.type.at("stopgate_check_latency_seconds"), "histogram");
  bool weird_found = false;
  for (const auto& s : e.samples) {
    if (s.name == "stopgate_decisions_total" && e.label(s, "reason") == "we\"ird\\label\nvalue") {
      weird_found = true;
      EXPECT_EQ(s.value, 1);
    }
  }
  EXPECT_TRUE(weird_found) << r.body();

  // Histogram: cumulative buckets ending at +Inf == _count, then _sum.
  std::vector<std::pair<std::string, double>> buckets;
  double sum = -1, count = -1;
  for (const auto& s : e.samples) {
    if (s.name == "stopgate_check_latency_seconds_bucket") {
      EXPECT_EQ(e.label(s, "op"), "check");
      buckets.emplace_back(e.label(s, "le"), s.value);
    }
    if (s.name == "stopgate_check_latency_seconds_sum") sum = s.value;
    if (s.name == "stopgate_check_latency_seconds_count") count = s.value;
  }
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0], (std::pair<std::string, double>{"0.001", 2}));  // le is inclusive
  EXPECT_EQ(buckets[1], (std::pair<std::string, double>{"0.01", 3}));
  EXPECT_EQ(buckets[2], (std::pair<std::string, double>{"0.1", 4}));
  EXPECT_EQ(buckets[3], (std::pair<std::string, double>{"+Inf", 5}));
  EXPECT_EQ(count, 5);
  EXPECT_NEAR(sum, 3.0535, 1e-9);

  // The server's own metrics: the /healthz request before the scrape is counted.
  bool healthz_counted = false;
  for (const auto& s : e.samples) {
    if (s.name == "stopgate_http_requests_total" && e.label(s, "route") == "/healthz" &&
        e.label(s, "code") == "200") {
      healthz_counted = s.value == 1;
    }
  }
  EXPECT_TRUE(healthz_counted) << r.body();
  EXPECT_EQ(e.type.at("stopgate_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(e.type.at("stopgate_http_connections_open"), "gauge");
  EXPECT_TRUE(e.type.count("stopgate_http_in_flight_requests"));
}

// ---- TLS ----------------------------------------------------------------------------------

TEST(HttpTls, RoundTripWithASelfSignedCertificate) {
  stopgate::test::temp_dir dir;
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                    "-subj /CN=localhost -keyout '" + (dir.path() / "key.pem").string() + "' -out '" +
                    (dir.path() / "cert.pem").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto s = loopback_settings();
  s->http.tls_cert = dir.path() / "cert.pem";
  s->http.tls_key = dir.path() / "key.pem";
  harness h(s);
  ASSERT_FALSE(h.start_error) << h.start_error.message();
  EXPECT_TRUE(h.server->tls());

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file((dir.path() / "cert.pem").string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  basic_client<beast::ssl_stream<tcp::socket>> c(ctx);
  beast::get_lowest_layer(c.stream()).connect({asio::ip::make_address("127.0.0.1"), h.port()});
  c.stream().handshake(asio::ssl::stream_base::client);
  EXPECT_GE(SSL_version(c.stream().native_handle()), TLS1_2_VERSION);
  auto r = c.get("/healthz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "ok\n");
  auto o = c.post("/v1/ops", R"({"op":"echo","id":"t"})");
  EXPECT_EQ(o.result_int(), 200);
  EXPECT_EQ(body_json(o).at("id").as_string(), "t");

  // TLS 1.1 is refused.
  asio::ssl::context old(asio::ssl::context::tls_client);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
  basic_client<beast::ssl_stream<tcp::socket>> o11(old);
  beast::get_lowest_layer(o11.stream()).connect({asio::ip::make_address("127.0.0.1"), h.port()});
  boost::system::error_code ec;
  o11.stream().handshake(asio::ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
}

// ---- graceful stop ------------------------------------------------------------------------

TEST(HttpStop, GracefulStopFinishesTheRequestInFlight) {
  harness h(loopback_settings());
  client busy(h.port());
  client idle(h.port());
  ASSERT_EQ(idle.get("/healthz").result_int(), 200);
  std::string gate = R"({"op":"gate","id":"g-1"})";
  busy.send_raw("POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(gate.size()) +
                "\r\n\r\n" + gate);
  ASSERT_TRUE(eventually([&] { return h.dispatch->in_gate.load() == 1; }));

  auto stopped = h.stop(10s);
  EXPECT_TRUE(idle.closed_by_server());  // nothing in flight there: closed at once
  EXPECT_EQ(stopped.wait_for(50ms), std::future_status::timeout);  // still waiting for the gate
  h.dispatch->gate_open = true;
  auto r = busy.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(body_json(*r).at("id").as_string(), "g-1");
  EXPECT_TRUE(body_json(*r).at("gated").as_bool());
  EXPECT_FALSE(r->keep_alive());
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);

  // No longer accepting.
  asio::io_context io;
  tcp::socket late(io);
  boost::system::error_code ec;
  late.connect({asio::ip::make_address("127.0.0.1"), h.port()}, ec);
  if (!ec) {
    char byte;
    late.read_some(asio::buffer(&byte, 1), ec);
  }
  EXPECT_TRUE(ec);
}

TEST(HttpStop, StartFailsCleanlyWhenThePortIsTaken) {
  // SO_REUSEPORT lets our acceptors share a port; a listener without it blocks the port.
  asio::io_context io;
  tcp::acceptor blocker(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto s = loopback_settings();
  s->http.listen->port = blocker.local_endpoint().port();
  harness h(s);
  EXPECT_TRUE(h.start_error);
  EXPECT_EQ(h.port(), 0);
}
