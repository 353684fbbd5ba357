// Socket API test helpers: a fake dispatcher, a server on loopback threads, line clients.
#pragma once

#include "config/settings.hpp"
#include "gateway/api/batch.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/api/server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::test {

namespace asio = boost::asio;

/// Ops: echo (returns the request and the key name), fail (invalid_number), throw,
/// hold (completes in groups of `hold_group`, each group in reverse order), gate (blocks
/// until open_gate()); stats needs admin. Batchable ops (through async_handle_batch): bcheck
/// (returns its `n`), bwrite (writes `"n":N,"text":true` as text), bgate (the whole batch
/// waits for open_gate()), bthrow (the batch throws). All run on one io_context.
class fake_dispatcher : public gateway::api::dispatcher, public gateway::api::batch_handler {
 public:
  explicit fake_dispatcher(asio::io_context& io) : gate_(io), io_(io) {
    gate_.expires_at(asio::steady_timer::time_point::max());
  }

  std::atomic<int> calls{0};
  std::atomic<int> active_gates{0};
  std::atomic<int> max_active_gates{0};
  std::size_t hold_group = 50;
  std::atomic<int> batch_calls{0};
  std::atomic<int> max_batch{0};

  asio::awaitable<gateway::api::op_result> async_handle(std::string_view op,
                                                        const boost::json::object& req,
                                                        const gateway::api::request_context& ctx) override {
    using gateway::api::op_error;
    using gateway::api::api_errc;
    ++calls;
    if (op == "echo") co_return boost::json::object{{"echo", req}, {"key", ctx.key_name}};
    if (op == "fail") co_return op_error{api_errc::invalid_number, "to: not a number"};
    if (op == "throw") throw std::runtime_error("boom");
    if (op == "hold") {
      if (held_.size() + 1 >= hold_group) {
        // This one completes first, then the rest of the group newest first: out of order.
        for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)->cancel();
        held_.clear();
      } else {
        asio::steady_timer t(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
        held_.push_back(&t);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      co_return boost::json::object{{"n", req.at("n")}};
    }
    if (op == "gate") {
      int now = ++active_gates;
      int prev = max_active_gates.load();
      while (now > prev && !max_active_gates.compare_exchange_weak(prev, now)) {
      }
      while (!gate_open_) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
      --active_gates;
      co_return boost::json::object{};
    }
    co_return boost::json::object{{"op", op}};
  }

  bool batchable(std::string_view op, const gateway::api::op_def*,
                 const boost::json::object&) const override {
    return op == "bcheck" || op == "bwrite" || op == "bgate" || op == "bthrow";
  }

  asio::awaitable<void> async_handle_batch(std::span<gateway::api::batch_entry> entries, std::string& text) override {
    ++batch_calls;
    const int n = int(entries.size());
    calls += n;
    int prev = max_batch.load();
    while (n > prev && !max_batch.compare_exchange_weak(prev, n)) {
    }
    bool gated = false;
    for (auto& e : entries) {
      if (e.op == "bthrow") throw std::runtime_error("boom");
      gated = gated || e.op == "bgate";
    }
    if (gated) {
      int now = active_gates += n;
      int before = max_active_gates.load();
      while (now > before && !max_active_gates.compare_exchange_weak(before, now)) {
      }
      while (!gate_open_) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
      active_gates -= n;
    }
    for (auto& e : entries) {
      if (e.op == "bwrite") {
        const std::size_t begin = text.size();
        text += "\"n\":" + boost::json::serialize(e.req->at("n")) + ",\"text\":true";
        e.written = gateway::api::written_fields{begin, text.size()};
      } else {
        e.result.emplace(boost::json::object{{"n", e.req->at("n")}});
      }
    }
  }

  std::optional<gateway::api::op_spec> find_op(std::string_view op) const override {
    if (op == "echo" || op == "fail" || op == "throw" || op == "hold" || op == "gate" || op == "bcheck" ||
        op == "bwrite" || op == "bgate" || op == "bthrow") {
      return gateway::api::op_spec{config::role::check};
    }
    if (op == "send") return std::nullopt;  // not implemented yet, as in the gateway today
    return gateway::api::standard_op_spec(op);
  }

  /// Lets every gate request (present and future) complete. Thread-safe.
  void open_gate() {
    asio::post(io_, [this] {
      gate_open_ = true;
      gate_.cancel();
    });
  }

 private:
  asio::steady_timer gate_;
  asio::io_context& io_;
  bool gate_open_ = false;
  std::vector<asio::steady_timer*> held_;
};

inline std::shared_ptr<config::settings> loopback_settings() {
  auto s = std::make_shared<config::settings>();
  s->api.listen = config::listen_address{"127.0.0.1", 0};
  return s;
}

/// A running api_server on `threads` io_contexts, each run by its own thread.
class api_harness {
  // Declared first so that they are destroyed last: the server and the dispatcher hold I/O
  // objects of these contexts.
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;

 public:
  explicit api_harness(std::shared_ptr<config::settings> s, std::size_t threads = 1)
      : settings(std::move(s)) {
    for (std::size_t i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    std::vector<asio::io_context*> raw;
    for (auto& c : contexts_) raw.push_back(c.get());
    dispatch = std::make_shared<fake_dispatcher>(*contexts_.front());
    server = std::make_unique<gateway::api::api_server>(raw, settings, dispatch);
    start_error = server->start();
    for (auto& c : contexts_) threads_.emplace_back([io = c.get()] { io->run(); });
  }
  ~api_harness() {
    if (!stopped_) stop(std::chrono::milliseconds(100)).wait();
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    server.reset();
    dispatch.reset();
    // Pending coroutine frames (accept loops, connections) hold the server's state, and with
    // it the dispatcher, whose I/O objects live on the first context: the last of those frames
    // must go with the first context, so the contexts go last to first.
    while (!contexts_.empty()) contexts_.pop_back();
  }

  /// Runs server->async_stop on the first context; the future is ready when it completes.
  std::future<void> stop(std::chrono::milliseconds grace) {
    stopped_ = true;
    return asio::co_spawn(*contexts_.front(), server->async_stop(grace), asio::use_future);
  }

  asio::io_context& io() { return *contexts_.front(); }

  std::shared_ptr<config::settings> settings;
  std::shared_ptr<fake_dispatcher> dispatch;
  std::unique_ptr<gateway::api::api_server> server;
  boost::system::error_code start_error;

 private:
  bool stopped_ = false;
};

/// A blocking line client over any stream.
template <class Stream>
class line_client {
 public:
  template <class... Args>
  explicit line_client(Args&&... args) : stream_(io_, std::forward<Args>(args)...) {}

  Stream& stream() { return stream_; }
  asio::io_context& io() { return io_; }

  void send(std::string_view text) { asio::write(stream_, asio::buffer(text)); }

  /// The next line without '\n'; nullopt at end of stream.
  std::optional<std::string> read_line() {
    boost::system::error_code ec;
    std::size_t n = asio::read_until(stream_, asio::dynamic_buffer(buf_), '\n', ec);
    if (ec) return std::nullopt;
    std::string line = buf_.substr(0, n - 1);
    buf_.erase(0, n);
    return line;
  }
  boost::json::object read_json() {
    auto line = read_line();
    if (!line) return {};
    return boost::json::parse(*line).as_object();
  }
  /// Sends one request line and reads one response.
  boost::json::object call(std::string_view line) {
    send(std::string(line) + "\n");
    return read_json();
  }

 private:
  asio::io_context io_;
  Stream stream_;
  std::string buf_;
};

class tcp_client : public line_client<asio::ip::tcp::socket> {
 public:
  explicit tcp_client(std::uint16_t port) {
    stream().connect({asio::ip::make_address("127.0.0.1"), port});
  }
};

}  // namespace stopgate::test
