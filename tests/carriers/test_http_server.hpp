// A small HTTP/1.1 server on loopback for the HTTP client tests, plain or TLS, on port 0.
// Routes (by path):
//   /echo          200, body = request body; X-Echo-Method, X-Echo-Test (request's X-Test),
//                  X-Echo-Auth (request's Authorization), X-Echo-Content-Type
//   /big/N         200 with N bytes of body
//   /status/N      status N, short body
//   /chunked/N     200 with N bytes of body in chunked encoding (no Content-Length)
//   /hang          reads the request and never answers
//   /truncate      announces 1000 body bytes, sends 10, closes the connection
// It runs on the executor given (one thread); counters are atomics so a test thread may read
// them while the server runs elsewhere. Destroy it only when its executor is not running.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace stopgate::test {

class test_http_server {
 public:
  /// `tls` (optional) must outlive the server.
  explicit test_http_server(boost::asio::any_io_executor ex,
                            boost::asio::ssl::context* tls = nullptr)
      : ex_(ex), tls_(tls), acceptor_(ex, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(ex_, accept_loop(), boost::asio::detached);
  }
  ~test_http_server() { stop(); }

  unsigned short port() const { return port_; }
  std::string url(std::string_view path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           std::string(path);
  }
  std::size_t connections() const { return connections_.load(); }
  std::size_t requests() const { return requests_.load(); }

  /// Closes the acceptor and every connection. Call on the server's executor (or while it
  /// is not running).
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
      ++connections_;
      if (tls_) {
        auto s = std::make_shared<boost::beast::ssl_stream<tcp::socket>>(std::move(sock), *tls_);
        boost::asio::co_spawn(ex_, tls_session(s), boost::asio::detached);
      } else {
        auto s = std::make_shared<tcp::socket>(std::move(sock));
        boost::asio::co_spawn(ex_, session(s, *s), boost::asio::detached);
      }
    }
  }

  boost::asio::awaitable<void> tls_session(
      std::shared_ptr<boost::beast::ssl_stream<tcp::socket>> s) {
    const std::uint64_t id = track(&s->next_layer());
    auto [ec] = co_await s->async_handshake(boost::asio::ssl::stream_base::server,
                                            boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!ec) co_await serve(*s, s->next_layer());
    live_.erase(id);
  }

  template <class Stream>
  boost::asio::awaitable<void> session(std::shared_ptr<Stream> keep, tcp::socket& sock) {
    const std::uint64_t id = track(&sock);
    co_await serve(*keep, sock);
    live_.erase(id);
  }

  std::uint64_t track(tcp::socket* s) {
    live_.emplace(next_id_, s);
    return next_id_++;
  }

  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream, tcp::socket& sock) {
    namespace http = boost::beast::http;
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    boost::beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(4 << 20);
      auto [ec, n] = co_await http::async_read(stream, buf, parser, as_tuple(use_awaitable));
      if (ec) co_return;
      ++requests_;
      const auto& req = parser.get();
      const std::string_view target(req.target().data(), req.target().size());
      if (target == "/hang") continue;  // never answer; wait for the peer to give up
      if (target == "/truncate") {
        static constexpr std::string_view partial =
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
        co_await boost::asio::async_write(stream, boost::asio::buffer(partial),
                                          as_tuple(use_awaitable));
        boost::system::error_code ignored;
        sock.close(ignored);
        co_return;
      }
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.keep_alive(req.keep_alive());
      if (target == "/echo") {
        res.set("X-Echo-Method", std::string(req.method_string()));
        res.set("X-Echo-Test", std::string(req["X-Test"]));
        res.set("X-Echo-Auth", std::string(req[http::field::authorization]));
        res.set("X-Echo-Content-Type", std::string(req[http::field::content_type]));
        res.body() = req.body();
      } else if (target.starts_with("/big/")) {
        res.body().assign(number_after(target, "/big/"), 'x');
      } else if (target.starts_with("/chunked/")) {
        res.body().assign(number_after(target, "/chunked/"), 'x');
        res.chunked(true);
      } else if (target.starts_with("/status/")) {
        res.result(static_cast<unsigned>(number_after(target, "/status/")));
        res.body() = "status";
      } else {
        res.result(http::status::not_found);
      }
      if (!res.chunked()) res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, as_tuple(use_awaitable));
      if (wec || !req.keep_alive()) co_return;
    }
  }

  static std::size_t number_after(std::string_view target, std::string_view prefix) {
    std::size_t v = 0;
    target.remove_prefix(prefix.size());
    std::from_chars(target.data(), target.data() + target.size(), v);
    return v;
  }

  boost::asio::any_io_executor ex_;
  boost::asio::ssl::context* tls_;
  tcp::acceptor acceptor_;
  unsigned short port_ = acceptor_.local_endpoint().port();
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> requests_{0};
  std::map<std::uint64_t, tcp::socket*> live_;
  std::uint64_t next_id_ = 0;
};

}  // namespace stopgate::test
