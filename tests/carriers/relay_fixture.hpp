// Shared by the relay tests: a fixture that runs relay sends on one io_context against
// scripted carriers (tests/carriers/relay_test_server.hpp), with the backoff delay hook
// recording requested delays instead of waiting, and carrier settings builders.
#pragma once

#include "carriers/relay/carrier_states.hpp"
#include "carriers/relay/relay.hpp"
#include "tests/carriers/relay_test_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stopgate::carriers::relay::relay_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::scripted_reply;
using test::scripted_server;
using clock_type = std::chrono::steady_clock;

inline const std::string accepted_body = R"({"id":"m-1","status":"queued"})";

inline scripted_reply ok() { return {200, {}, accepted_body}; }

inline config::carrier_settings http_carrier(std::string name, std::string url) {
  config::carrier_settings c;
  c.name = std::move(name);
  c.type = config::carrier_type::http;
  config::http_credentials h;
  h.url = std::move(url);
  c.credentials = h;
  c.timeout_ms = 2000;
  c.retries = 2;
  c.backoff_initial_ms = 200;
  c.backoff_max_ms = 1000;
  return c;
}

// A port with nothing listening: bound once, then released.
inline std::string closed_url() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return "http://127.0.0.1:" + std::to_string(port) + "/send";
}

inline outbound_message message(std::string id = "msg-1") {
  return {"+14155552671", "+14155552672", "hello", std::move(id), ""};
}

class relay_fixture : public ::testing::Test {
 protected:
  // Runs `body` on io_ until it finishes (bounded).
  void run(std::function<asio::awaitable<void>()> body, std::chrono::seconds limit = 20s) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      done = true;
      error = e;
    });
    io_.restart();
    const auto deadline = clock_type::now() + limit;
    while (!done && clock_type::now() < deadline) io_.run_one_for(50ms);
    ASSERT_TRUE(done) << "test coroutine did not finish";
    if (error) std::rethrow_exception(error);
  }

  // Sorted by name, as the config loader leaves them.
  void set_carriers(std::vector<config::carrier_settings> cs) {
    std::sort(cs.begin(), cs.end(), [](auto& a, auto& b) { return a.name < b.name; });
    settings_.carriers = std::move(cs);
    states_->configure(settings_);
  }

  relay_options options() {
    relay_options o;
    o.delay = [this](std::string_view carrier, std::chrono::milliseconds d) {
      delays_.emplace_back(std::string(carrier), d);
      return 0ms;
    };
    o.random = [] { return std::uint64_t{0}; };  // jitter 0: the delay is the carrier's wish
    return o;
  }

  relay_result send(relay& r, std::vector<std::string> route, outbound_message m = message()) {
    relay_result out;
    run([&]() -> asio::awaitable<void> { out = co_await r.async_send(settings_, route, m); });
    return out;
  }

  const carrier_counters& counters_of(const std::string& name) {
    counters_ = states_->counters();
    for (auto& c : counters_)
      if (c.carrier == name) return c;
    throw std::runtime_error("no counters for " + name);
  }

  asio::io_context io_{1};
  std::shared_ptr<carrier_states> states_ = std::make_shared<carrier_states>();
  config::settings settings_;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> delays_;
  std::vector<carrier_counters> counters_;
};

}  // namespace stopgate::carriers::relay::relay_test
