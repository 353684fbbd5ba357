// A blocking NDJSON client for socket-API tests: one JSON object per line each way.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace stopgate::test {

class line_client {
 public:
  /// Connects to 127.0.0.1:port, retrying for up to `wait_ms` (a server that is starting).
  explicit line_client(int port, int wait_ms = 10000);
  bool connected() const { return sock_.is_open(); }
  void send_line(const std::string& line);
  /// The next line, or "" when the connection closed.
  std::string read_line();
  /// Sends `req` (with an id added if absent) and returns the parsed response.
  boost::json::object call(boost::json::object req);

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket sock_{io_};
  boost::asio::streambuf buf_;
  int next_id_ = 1;
};

}  // namespace stopgate::test
