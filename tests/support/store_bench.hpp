// Runs awaitables on a private io_context with its own Redis client: for tests of the stores
// that speak to Redis through the client (the reply queue, the outbound queue).
#pragma once

#include "redis/client.hpp"
#include "redis/url.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>

namespace stopgate::test {

class store_bench {
 public:
  /// Runs `f()` (returning an awaitable) to completion and returns its value.
  template <class F>
  auto run(F f) {
    auto fut = boost::asio::co_spawn(io_, f(), boost::asio::use_future);
    io_.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      io_.run_one_for(std::chrono::milliseconds(10));
    return fut.get();
  }
  explicit store_bench(redis_server& r) : store_bench(r.tcp_url()) {}
  explicit store_bench(const std::string& url) {
    redis::client_options o;
    o.ep = *redis::parse_url(url);
    client_ = std::make_unique<redis::client>(io_.get_executor(), o);
    client_->start();
    run([this]() -> boost::asio::awaitable<int> {
      co_await client_->async_wait_connected(std::chrono::seconds(5));
      co_return 0;
    });
  }
  ~store_bench() {
    client_->stop();
    io_.run_for(std::chrono::milliseconds(50));
  }
  redis::client& c() { return *client_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<redis::client> client_;
};

}  // namespace stopgate::test
