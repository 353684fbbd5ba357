// A one-request-at-a-time HTTP receiver on loopback for the tests of outbound webhooks (a
// sender's forward_url, status_url): answers `status()` to every request and keeps each
// request's headers and body.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::test {

class receiver {
 public:
  struct request {
    std::string head;  // request line and headers
    std::string body;
    /// The value of header `name` (as sent, case-sensitive match), or "".
    std::string header(const std::string& name) const {
      const auto p = head.find("\r\n" + name + ": ");
      if (p == std::string::npos) return {};
      const auto v = p + 4 + name.size();
      return head.substr(v, head.find("\r\n", v) - v);
    }
  };

  explicit receiver(int status)
      : status_(status), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~receiver() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket s(io_);
    s.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/in";
  }
  void set_status(int s) { status_ = s; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (auto& r : requests_) out.push_back(r.body);
    return out;
  }
  std::vector<request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      std::string in;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        auto n = s.read_some(boost::asio::buffer(buf), ec);
        if (ec) break;
        in.append(buf, n);
        auto end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          auto cl = in.find("Content-Length: ");
          if (cl == std::string::npos) cl = in.find("content-length: ");
          need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16)));
        }
      }
      const auto end = in.find("\r\n\r\n");
      {
        std::lock_guard lock(mu_);
        requests_.push_back({in.substr(0, end == std::string::npos ? in.size() : end),
                             end == std::string::npos ? std::string() : in.substr(end + 4)});
      }
      std::string out = "HTTP/1.1 " + std::to_string(status_.load()) +
                        " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      boost::asio::write(s, boost::asio::buffer(out), ec);
    }
  }
  std::atomic<int> status_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<request> requests_;
};

}  // namespace stopgate::test
