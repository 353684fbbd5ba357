// Internal: one libcurl multi handle driven by an Asio executor. Not a public API (client.hpp
// is).
//
// The bridge: libcurl tells us which sockets it wants watched for what (CURLMOPT_SOCKETFUNCTION)
// and when it next needs a tick (CURLMOPT_TIMERFUNCTION). Each socket gets a
// posix::stream_descriptor that wraps curl's fd without owning it; each wanted direction arms
// one async_wait. Readiness or the timer calls curl_multi_socket_action, after which finished
// transfers are collected with curl_multi_info_read. A finished transfer wakes its waiting
// coroutine by cancelling the transfer's timer, so the coroutine resumes from the executor's
// queue, never inside a libcurl callback. Before curl closes a socket
// (CURLOPT_CLOSESOCKETFUNCTION, and CURL_POLL_REMOVE before that) its descriptor is released,
// so epoll never holds a stale fd that a new connection could reuse.
#pragma once

#include "carriers/http/error.hpp"
#include "carriers/http/message.hpp"

#include <curl/curl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace stopgate::carriers::http::detail {

/// One request in flight: what curl reads from and writes into, shared by the bridge (while
/// curl uses it) and the awaiting coroutine.
struct transfer {
  explicit transfer(const boost::asio::any_io_executor& ex) : wake(ex) {}
  boost::asio::steady_timer wake;  // the coroutine waits on it; cancelled when done
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;    // the request body, handed to curl by on_read (not copied by curl)
  std::size_t body_read = 0;  // bytes of body curl has taken so far
  std::string method;  // for logs
  std::string origin;  // "host:port", for logs
  response resp;
  std::size_t cap = 0;  // max body bytes, and max header bytes
  std::size_t header_bytes = 0;
  bool cap_hit = false;
  bool sent = false;  // curl reached the point of sending the request
  bool done = false;
  boost::system::error_code ec;
  std::size_t slot = 0;  // index in multi_bridge::active_
  std::array<char, CURL_ERROR_SIZE> errbuf{};
};

class multi_bridge : public std::enable_shared_from_this<multi_bridge> {
 public:
  multi_bridge(boost::asio::any_io_executor ex, client_options opts);
  ~multi_bridge();
  multi_bridge(const multi_bridge&) = delete;
  multi_bridge& operator=(const multi_bridge&) = delete;

  /// Hands a request to curl. Fails with stopped, overloaded or invalid_request.
  boost::system::result<std::shared_ptr<transfer>> start(request r);
  /// Takes an unfinished transfer away from curl (its waiter gave up) and fails it with `why`.
  void abandon(transfer& t, client_errc why);
  /// Fails every transfer with stopped, closes every connection; start() fails afterwards.
  void stop();
  bool stopped() const noexcept { return multi_ == nullptr; }
  std::size_t in_flight() const noexcept { return active_.size(); }
  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }

 private:
  struct socket_watch {
    socket_watch(const boost::asio::any_io_executor& ex, curl_socket_t s) : sd(ex), fd(s) {}
    boost::asio::posix::stream_descriptor sd;  // not owning: released before curl closes fd
    curl_socket_t fd;
    int interest = 0;  // CURL_POLL_IN / CURL_POLL_OUT bits curl asked for last
    bool read_armed = false;
    bool write_armed = false;
    bool closed = false;  // released; stale wait handlers do nothing
  };

  static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  static int on_close_socket(void* clientp, curl_socket_t s);

  void watch(curl_socket_t s, int what);
  void forget(curl_socket_t s);
  void arm(const std::shared_ptr<socket_watch>& w);
  void on_ready(const std::shared_ptr<socket_watch>& w, int select_flags);
  void on_tick();
  void drive(curl_socket_t s, int select_flags);
  void collect_done();
  void complete(transfer& t, boost::system::error_code ec);
  void detach(transfer& t);
  void configure(transfer& t, request& r);  // moves the body into t
  CURL* acquire_easy();
  void release_easy(CURL* e);

  boost::asio::any_io_executor ex_;
  client_options opts_;
  CURLM* multi_ = nullptr;
  boost::asio::steady_timer timer_;
  bool tick_posted_ = false;  // an "at once" tick is queued on ex_
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_watch>> sockets_;
  std::vector<std::shared_ptr<transfer>> active_;
  std::vector<CURL*> idle_easy_;  // reset handles kept for reuse (bounded)
};

}  // namespace stopgate::carriers::http::detail
