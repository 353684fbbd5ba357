#include "tests/support/line_client.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <istream>
#include <thread>

namespace stopgate::test {

namespace asio = boost::asio;

line_client::line_client(int port, int wait_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    boost::system::error_code ec;
    sock_.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    if (!ec) return;
    sock_.close();
    if (std::chrono::steady_clock::now() > end) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void line_client::send_line(const std::string& line) {
  boost::system::error_code ec;
  asio::write(sock_, asio::buffer(line + "\n"), ec);
}

std::string line_client::read_line() {
  boost::system::error_code ec;
  asio::read_until(sock_, buf_, '\n', ec);
  if (ec) return {};
  std::istream in(&buf_);
  std::string line;
  std::getline(in, line);
  return line;
}

boost::json::object line_client::call(boost::json::object req) {
  if (!req.contains("id")) req["id"] = next_id_++;
  send_line(boost::json::serialize(req));
  auto line = read_line();
  if (line.empty()) return {};
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return {};
  return v.get_object();
}

}  // namespace stopgate::test
