// A scripted carrier on loopback for the relay tests: an HTTP/1.1 server on port 0 whose
// answer to each request comes from a test-supplied function (status, headers, body, an
// optional delay, or no answer at all). It counts requests and the highest number answered
// concurrently. Runs on the executor given (one thread); counters are atomics so another
// thread may read them. Destroy it only when its executor is not running.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace stopgate::test {

struct scripted_reply {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // before answering (the request counts as in flight)
  bool hang = false;                   // never answer
};

class scripted_server {
 public:
  /// `reply(n, body)`: the answer to the n-th request (0-based) with that request body.
  using script = std::function<scripted_reply(std::size_t n, const std::string& body)>;

  scripted_server(boost::asio::any_io_executor ex, script reply)
      : ex_(ex), reply_(std::move(reply)),
        acceptor_(ex, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(ex_, accept_loop(), boost::asio::detached);
  }
  ~scripted_server() { stop(); }

  std::string url(std::string_view path = "/send") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::size_t requests() const { return requests_.load(); }
  std::size_t max_concurrent() const { return max_concurrent_.load(); }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }

  void stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& [id, sock] : live_) sock->close(ec);
    live_.clear();
  }

 private:
  using tcp = boost::asio::ip::tcp;

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] =
          co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      boost::asio::co_spawn(ex_, session(s), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(std::shared_ptr<tcp::socket> sock) {
    namespace http = boost::beast::http;
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    const std::uint64_t id = next_id_++;
    live_.emplace(id, sock.get());
    boost::beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(*sock, buf, req, as_tuple(use_awaitable));
      if (ec) break;
      std::size_t index = 0;
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(req.body());
        targets_.emplace_back(req.target());
        index = requests_++;
      }
      const scripted_reply r = reply_(index, req.body());
      if (r.hang) {
        // Keep the connection open without answering until the client gives up.
        co_await http::async_read(*sock, buf, req, as_tuple(use_awaitable));
        break;
      }
      const std::size_t now = ++concurrent_;
      for (std::size_t seen = max_concurrent_.load(); now > seen;)
        if (max_concurrent_.compare_exchange_weak(seen, now)) break;
      if (r.delay.count() > 0) {
        boost::asio::steady_timer t(ex_, r.delay);
        co_await t.async_wait(as_tuple(use_awaitable));
      }
      --concurrent_;
      http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
      res.keep_alive(req.keep_alive());
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.set(http::field::content_type, "application/json");
      res.body() = r.body;
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(*sock, res, as_tuple(use_awaitable));
      if (wec || !req.keep_alive()) break;
    }
    live_.erase(id);
  }

  boost::asio::any_io_executor ex_;
  script reply_;
  tcp::acceptor acceptor_;
  unsigned short port_ = acceptor_.local_endpoint().port();
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::size_t> concurrent_{0};
  std::atomic<std::size_t> max_concurrent_{0};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> targets_;
  std::map<std::uint64_t, tcp::socket*> live_;
  std::uint64_t next_id_ = 0;
};

}  // namespace stopgate::test
