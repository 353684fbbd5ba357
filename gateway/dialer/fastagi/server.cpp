#include "gateway/dialer/fastagi/server.hpp"

#include "gateway/dialer/check_runner.hpp"
#include "gateway/dialer/fastagi/session.hpp"
#include "gateway/dialer/listen.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <mutex>
#include <unordered_map>

namespace stopgate::gateway::dialer::fastagi {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

/// One connection's stream, reachable from other threads for a forced close at stop.
struct connection {
  explicit connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
};
}  // namespace

struct server_state {
  server_state(std::shared_ptr<const config::settings> s, std::shared_ptr<voice_checker> c)
      : settings(std::move(s)), checker(std::move(c)) {}

  std::shared_ptr<const config::settings> snapshot() {
    std::lock_guard lock(mu);
    return settings;
  }

  std::mutex mu;
  std::shared_ptr<const config::settings> settings;
  std::shared_ptr<voice_checker> checker;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::unordered_map<connection*, std::weak_ptr<connection>> live;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> open{0};
  std::atomic<std::uint64_t> sessions{0}, checks{0}, malformed{0}, timeouts{0}, refused{0};
};

namespace {

// Takes the complete lines off the front of `buf`; false when one is longer than `max`.
template <class F>
bool take_lines(std::string& buf, std::size_t max, F&& each) {
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buf.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max) return false;
    start = nl + 1;
    if (!each(line)) break;
  }
  buf.erase(0, start);
  return buf.size() <= max;
}

asio::awaitable<void> serve(std::shared_ptr<server_state> st, std::shared_ptr<connection> c,
                            unsigned worker) {
  const auto snap = st->snapshot();
  const auto& f = snap->dialer.fastagi;
  session s(session_options{f.script, f.defaults});
  const milliseconds read_timeout(f.read_timeout_ms);
  const milliseconds check_timeout(f.check_timeout_ms);
  std::string buf;
  std::array<char, 4096> chunk;
  session_output out;
  bool done = false;
  auto note = [&](const session_output& o) {
    if (o.problem.empty()) return;
    ++st->malformed;
    spdlog::warn("fastagi: session {}: {}", s.uniqueid().empty() ? "(no uniqueid)" : s.uniqueid(),
                 o.problem);
  };

  // Runs what the session asked for: the check (then its commands), a write, a close.
  auto act = [&]() -> asio::awaitable<void> {
    for (;;) {
      note(out);
      if (out.check) {
        voice_check q = std::move(*out.check);
        q.worker = worker;
        voice_answer a = co_await async_check_within(st->checker, std::move(q), check_timeout);
        ++st->checks;
        // A HANGUP that came while the check ran is read before the answer is used.
        boost::system::error_code ec;
        if (c->stream.socket().available(ec) > 0 && !ec) {
          auto n = c->stream.socket().read_some(asio::buffer(chunk), ec);
          buf.append(chunk.data(), n);
          take_lines(buf, f.max_line_bytes, [&](std::string_view line) {
            session_output o;
            s.on_line(line, o);
            note(o);
            return s.current() == session::phase::checking;
          });
        }
        out.clear();
        s.on_answer(a, out);
        continue;
      }
      if (!out.write.empty()) {
        c->stream.expires_after(read_timeout);
        auto [ec, n] = co_await asio::async_write(c->stream, asio::buffer(out.write), nothrow);
        if (ec) done = true;
      }
      if (out.close) done = true;
      co_return;
    }
  };

  while (!done) {
    // Every complete line already read, in order.
    std::vector<std::string> lines;
    bool fits = take_lines(buf, f.max_line_bytes, [&](std::string_view line) {
      lines.emplace_back(line);
      return true;
    });
    for (const auto& line : lines) {
      if (done) break;
      out.clear();
      s.on_line(line, out);
      co_await act();
    }
    if (done) break;
    if (!fits) {
      ++st->malformed;
      spdlog::warn("fastagi: a line longer than dialer.fastagi.max_line_bytes ({}); closing",
                   f.max_line_bytes);
      break;
    }
    c->stream.expires_after(read_timeout);
    auto [ec, n] = co_await c->stream.async_read_some(asio::buffer(chunk), nothrow);
    if (ec) {
      if (ec == beast::error::timeout) {
        ++st->timeouts;
        spdlog::warn("fastagi: session {}: no data within dialer.fastagi.read_timeout_ms; closing",
                     s.uniqueid().empty() ? "(no uniqueid)" : s.uniqueid());
        break;
      }
      out.clear();
      s.on_end_of_input(out);
      note(out);
      break;
    }
    buf.append(chunk.data(), n);
  }
  boost::system::error_code ec;
  c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  c->stream.socket().close(ec);
}

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> st,
                                  std::shared_ptr<tcp::acceptor> acc, asio::io_context& io,
                                  unsigned worker) {
  for (;;) {
    auto [ec, sock] = co_await acc->async_accept(io, nothrow);
    if (st->stopping.load() || !acc->is_open()) co_return;
    if (ec) {
      spdlog::warn("fastagi: accept failed: {}", ec.message());
      asio::steady_timer pause(io, milliseconds(50));
      co_await pause.async_wait(nothrow);
      continue;
    }
    const auto limit = st->snapshot()->dialer.fastagi.max_connections;
    if (st->open.fetch_add(1) >= std::int64_t(limit)) {
      st->open.fetch_sub(1);
      ++st->refused;
      continue;  // the socket closes as it goes out of scope
    }
    boost::system::error_code opt;
    sock.set_option(tcp::no_delay(true), opt);
    auto c = std::make_shared<connection>(std::move(sock));
    {
      std::lock_guard lock(st->mu);
      st->live.emplace(c.get(), c);
    }
    ++st->sessions;
    asio::co_spawn(io, serve(st, c, worker), [st, c](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          spdlog::error("fastagi: session failed: {}", x.what());
        }
      }
      std::lock_guard lock(st->mu);
      st->live.erase(c.get());
      st->open.fetch_sub(1);
    });
  }
}

}  // namespace

server::server(std::vector<asio::io_context*> contexts,
               std::shared_ptr<const config::settings> settings,
               std::shared_ptr<voice_checker> checker)
    : contexts_(std::move(contexts)),
      state_(std::make_shared<server_state>(std::move(settings), std::move(checker))) {}

server::~server() {
  // After async_stop the acceptors are closed; otherwise each is closed on its own thread.
  if (state_->stopping.exchange(true)) return;
  for (auto& acc : state_->acceptors)
    asio::post(acc->get_executor(), [acc] {
      boost::system::error_code ec;
      acc->close(ec);
    });
}

boost::system::error_code server::start() {
  const auto snap = state_->snapshot();
  const auto& listen = snap->dialer.fastagi.listen;
  if (!listen) return {};
  auto port = open_tcp_listeners(contexts_, *listen, state_->acceptors);
  if (!port) {
    spdlog::error("fastagi: cannot listen on {}: {}", listen->to_string(), port.error().message());
    for (auto& acc : state_->acceptors) {
      boost::system::error_code ec;
      acc->close(ec);
    }
    state_->acceptors.clear();
    return port.error();
  }
  port_ = *port;
  for (std::size_t i = 0; i < state_->acceptors.size(); ++i)
    asio::co_spawn(*contexts_[i], accept_loop(state_, state_->acceptors[i], *contexts_[i], unsigned(i)),
                   asio::detached);
  spdlog::info("fastagi: listening on {}:{}", listen->host, port_);
  return {};
}

asio::awaitable<void> server::async_stop(milliseconds grace) {
  state_->stopping.store(true);
  for (auto& acc : state_->acceptors)
    asio::post(acc->get_executor(), [acc] {
      boost::system::error_code ec;
      acc->close(ec);
    });
  asio::steady_timer wait(co_await asio::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + grace;
  while (state_->open.load() > 0 && std::chrono::steady_clock::now() < until) {
    wait.expires_after(milliseconds(20));
    co_await wait.async_wait(nothrow);
  }
  // Whatever is left is closed on its own thread.
  std::vector<std::shared_ptr<connection>> left;
  {
    std::lock_guard lock(state_->mu);
    for (auto& [p, w] : state_->live)
      if (auto c = w.lock()) left.push_back(std::move(c));
  }
  for (auto& c : left) asio::post(c->stream.get_executor(), [c] { c->stream.close(); });
  const auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (state_->open.load() > 0 && std::chrono::steady_clock::now() < hard) {
    wait.expires_after(milliseconds(20));
    co_await wait.async_wait(nothrow);
  }
}

void server::update_settings(std::shared_ptr<const config::settings> settings) {
  std::lock_guard lock(state_->mu);
  if (state_->settings->dialer.fastagi.listen != settings->dialer.fastagi.listen)
    spdlog::warn("fastagi: dialer.fastagi.listen changed; that takes effect after a restart");
  state_->settings = std::move(settings);
}

server_stats server::stats() const {
  server_stats s;
  s.sessions = state_->sessions.load();
  s.checks = state_->checks.load();
  s.malformed = state_->malformed.load();
  s.timeouts = state_->timeouts.load();
  s.refused = state_->refused.load();
  s.open = state_->open.load();
  return s;
}

}  // namespace stopgate::gateway::dialer::fastagi
