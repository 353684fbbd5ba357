// Test fixture for the fake carrier: a fake (own io thread) with test credentials, and the
// real carrier HTTP client on an io_context run by the test thread, so each test drives
// stopgate's adapters (build_send -> http::client -> fake -> parse_send_response).
#pragma once

#include "carriers/http/client.hpp"
#include "carriers/wire/adapter.hpp"
#include "tools/fake_carrier/server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::fake_carrier::test {

namespace asio = boost::asio;
namespace http = carriers::http;
using namespace std::chrono_literals;
using config::carrier_type;

/// Non-default credentials, so the tests prove the fake checks what it was configured with.
inline credentials test_credentials() {
  credentials c;
  c.twilio = {"AC0123456789abcdef0123456789abcdef", "twilio-secret"};
  c.telnyx = {"KEYtelnyx-test"};
  c.bandwidth = {"5500123", "app-5500", "bw-user", "bw-pass", ""};
  c.vonage = {"vonkey", "vonage-secret"};
  c.plivo = {"MATESTAUTHID0001", "plivo-secret"};
  c.sinch = {"plan-77", "sinch-token"};
  c.http = {"/hooks/send", {{"Authorization", "Bearer http-token"}, {"X-Tenant", "t1"}}};
  return c;
}

/// A message with numbers that are valid (not 555-01xx) and a callback URL.
inline carriers::outbound_message test_message() {
  return {"+14155552671", "+14155552000", "Hello there", "msg-0001",
          "https://gw.example/hooks/status"};
}

/// One send through an adapter: the raw client outcome and, when a response came, the
/// adapter's reading of it.
struct exchange {
  http::outcome raw;
  std::optional<carriers::send_outcome> parsed;
};

class fake_carrier_test : public ::testing::Test {
 protected:
  void SetUp() override {
    server_options o;
    o.creds = test_credentials();
    o.seed = 42;
    auto started = server::start(std::move(o));
    ASSERT_TRUE(started) << started.error().message();
    fake_ = std::move(*started);
    client_.emplace(io_.get_executor(), http::client_options{});
  }
  void TearDown() override {
    client_.reset();
    fake_.reset();
  }

  /// Runs `body` on the test's io_context until it finishes (bounded).
  void run(std::function<asio::awaitable<void>()> body, std::chrono::seconds limit = 30s) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      done = true;
      error = e;
    });
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
    ASSERT_TRUE(done) << "test coroutine did not finish";
    if (error) std::rethrow_exception(error);
  }

  http::outcome request(http::request r) {
    std::optional<http::outcome> out;
    run([&]() -> asio::awaitable<void> { out = co_await client_->async_request(std::move(r)); });
    return std::move(*out);
  }

  static http::request to_request(const carriers::http_call& call,
                                  std::chrono::milliseconds timeout) {
    http::request r;
    r.method = call.method;
    r.url = call.url;
    r.headers = call.headers;
    r.headers.emplace_back("Content-Type", call.content_type);
    r.body = call.body;
    r.timeout = timeout;
    return r;
  }

  exchange send(const config::carrier_settings& s,
                const carriers::outbound_message& msg = test_message(),
                std::chrono::milliseconds timeout = 5s) {
    auto call = carriers::build_send(s, msg);
    EXPECT_TRUE(call.has_value());
    exchange ex{request(to_request(*call, timeout)), std::nullopt};
    if (ex.raw)
      ex.parsed = carriers::parse_send_response(s.type, int(ex.raw->status), ex.raw->headers,
                                                ex.raw->body, std::chrono::system_clock::now());
    return ex;
  }

  /// How the relay treats the exchange: nullopt = accepted; a transport failure is
  /// retryable (SPEC section 9: timeouts and connection errors).
  static std::optional<carriers::failure_class> failure_of(const exchange& ex) {
    if (!ex.raw) return carriers::failure_class::retryable;
    return ex.parsed->accepted ? std::nullopt : ex.parsed->failure;
  }

  config::carrier_settings settings(carrier_type t) const { return fake_->settings_for(t); }

  asio::io_context io_;
  std::unique_ptr<server> fake_;
  std::optional<http::client> client_;
};

}  // namespace stopgate::fake_carrier::test
