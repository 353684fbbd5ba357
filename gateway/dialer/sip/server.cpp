#include "gateway/dialer/sip/server.hpp"

#include "gateway/dialer/check_runner.hpp"
#include "gateway/dialer/listen.hpp"
#include "gateway/dialer/sip/stream_framer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>

namespace stopgate::gateway::dialer::sip {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using std::chrono::milliseconds;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

instant now() {
  return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
}

void log_escape(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("sip: task failed: {}", x.what());
  }
}
}  // namespace

struct server_shared {
  server_shared(std::shared_ptr<const config::settings> s, std::shared_ptr<voice_checker> c)
      : settings(std::move(s)), checker(std::move(c)) {}
  std::shared_ptr<const config::settings> snapshot() {
    std::lock_guard lock(mu);
    return settings;
  }
  std::mutex mu;
  std::shared_ptr<const config::settings> settings;
  std::shared_ptr<voice_checker> checker;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> tcp_open{0};
};

struct tcp_connection {
  explicit tcp_connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::deque<std::string> queue;
  bool writing = false;
};

/// One worker's share of the gate. Used only on its io_context's thread.
struct endpoint : std::enable_shared_from_this<endpoint> {
  endpoint(asio::io_context& io, unsigned worker, std::shared_ptr<server_shared> sh)
      : io(io), worker(worker), shared(std::move(sh)), g(shared->snapshot(), std::random_device{}()),
        timer(io) {}

  asio::io_context& io;
  unsigned worker;  // the index of `io` in the servers' list (voice_check::worker)
  std::shared_ptr<server_shared> shared;
  gate g;
  std::shared_ptr<udp::socket> udp_socket;
  std::shared_ptr<tcp::acceptor> acceptor;
  asio::steady_timer timer;
  std::chrono::steady_clock::time_point armed = std::chrono::steady_clock::time_point::max();
  std::unordered_map<std::uint64_t, std::shared_ptr<tcp_connection>> connections;
  std::uint64_t next_connection = 1;
  gate_output out;
  std::mutex stats_mu;
  gate_counters published;

  void flush();
  void publish() {
    std::lock_guard lock(stats_mu);
    published = g.counters();
  }
  void send_tcp(std::uint64_t id, std::string bytes);
  asio::awaitable<void> write_loop(std::shared_ptr<tcp_connection> c);
  asio::awaitable<void> udp_loop();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> tcp_loop(std::uint64_t id, std::shared_ptr<tcp_connection> c, peer from);
  asio::awaitable<void> timer_loop();
  void close_all();
};

void endpoint::flush() {
  if (shared->stopping.load(std::memory_order_relaxed)) {
    out.clear();
    return;
  }
  gate_output work;
  std::swap(work, out);
  for (auto& s : work.sends) {
    if (s.to.proto == transport::udp) {
      if (!udp_socket) continue;
      boost::system::error_code ec;
      udp_socket->send_to(asio::buffer(s.bytes), udp::endpoint(s.to.addr, s.to.port), 0, ec);
      if (ec && ec != asio::error::would_block)
        spdlog::debug("sip: send to {} failed: {}", s.to.to_string(), ec.message());
    } else {
      send_tcp(s.to.connection, std::move(s.bytes));
    }
  }
  for (auto& c : work.checks) {
    c.query.worker = worker;
    spawn_check(io.get_executor(), shared->checker, std::move(c.query),
                [self = shared_from_this(), id = c.id](const voice_answer& a) {
                  self->out.clear();
                  self->g.on_answer(id, a, now(), self->out);
                  self->flush();
                });
  }
  // Keep the buffers' capacity for the next message.
  work.clear();
  std::swap(work, out);
  if (auto d = g.next_deadline(); d && *d < armed) timer.cancel();
  publish();
}

void endpoint::send_tcp(std::uint64_t id, std::string bytes) {
  auto it = connections.find(id);
  if (it == connections.end()) return;  // the connection is gone: nobody to answer
  auto& c = it->second;
  c->queue.push_back(std::move(bytes));
  if (!c->writing) {
    c->writing = true;
    asio::co_spawn(io, write_loop(c), log_escape);
  }
}

asio::awaitable<void> endpoint::write_loop(std::shared_ptr<tcp_connection> c) {
  auto self = shared_from_this();
  while (!c->queue.empty()) {
    std::string bytes = std::move(c->queue.front());
    c->queue.pop_front();
    auto [ec, n] = co_await asio::async_write(c->stream, asio::buffer(bytes), nothrow);
    if (ec) {
      c->queue.clear();
      c->stream.close();
      break;
    }
  }
  c->writing = false;
}

asio::awaitable<void> endpoint::udp_loop() {
  auto self = shared_from_this();
  std::vector<char> buf(65536);
  udp::endpoint sender;
  for (;;) {
    auto [ec, n] = co_await udp_socket->async_receive_from(asio::buffer(buf), sender, nothrow);
    if (shared->stopping.load() || ec == asio::error::operation_aborted || !udp_socket->is_open())
      co_return;
    if (ec) continue;  // e.g. ICMP port unreachable reported on the socket
    const auto snap = shared->snapshot();
    if (n > snap->dialer.sip.max_message_bytes) continue;  // too large to be ours (18.1.1)
    g.update_settings(snap);
    out.clear();
    g.on_message(buf.data(), n, peer{transport::udp, sender.address(), sender.port(), 0}, now(),
                 out);
    flush();
  }
}

asio::awaitable<void> endpoint::accept_loop() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, sock] = co_await acceptor->async_accept(io, nothrow);
    if (shared->stopping.load() || !acceptor->is_open()) co_return;
    if (ec) {
      asio::steady_timer pause(io, milliseconds(50));
      co_await pause.async_wait(nothrow);
      continue;
    }
    const auto limit = shared->snapshot()->dialer.sip.max_connections;
    if (shared->tcp_open.fetch_add(1) >= std::int64_t(limit)) {
      shared->tcp_open.fetch_sub(1);
      continue;
    }
    boost::system::error_code pec;
    auto remote = sock.remote_endpoint(pec);
    if (pec) {
      shared->tcp_open.fetch_sub(1);
      continue;
    }
    sock.set_option(tcp::no_delay(true), pec);
    const std::uint64_t id = next_connection++;
    auto c = std::make_shared<tcp_connection>(std::move(sock));
    connections.emplace(id, c);
    asio::co_spawn(io, tcp_loop(id, c, peer{transport::tcp, remote.address(), remote.port(), id}),
                   log_escape);
  }
}

asio::awaitable<void> endpoint::tcp_loop(std::uint64_t id, std::shared_ptr<tcp_connection> c,
                                         peer from) {
  auto self = shared_from_this();
  auto snap = shared->snapshot();
  stream_framer framer(snap->dialer.sip.max_message_bytes);
  const milliseconds idle(snap->dialer.sip.tcp_idle_timeout_ms);
  bool open = true;
  while (open && !shared->stopping.load()) {
    auto room = framer.prepare();
    c->stream.expires_after(idle);
    auto [ec, n] =
        co_await c->stream.async_read_some(asio::buffer(room.data(), room.size()), nothrow);
    if (ec) break;
    framer.commit(n);
    for (;;) {
      std::span<char> msg;
      auto st = framer.next(msg);
      if (st == stream_framer::status::need_more) break;
      if (st != stream_framer::status::message) {
        spdlog::debug(
            "sip: closing {}: {}", from.to_string(),
            st == stream_framer::status::too_large ? "message too large" : "bad Content-Length");
        open = false;
        break;
      }
      g.update_settings(shared->snapshot());
      out.clear();
      g.on_message(msg.data(), msg.size(), from, now(), out);
      flush();
    }
  }
  // Let queued responses go out before the connection is forgotten.
  if (!c->writing) c->stream.close();
  connections.erase(id);
  shared->tcp_open.fetch_sub(1);
}

asio::awaitable<void> endpoint::timer_loop() {
  auto self = shared_from_this();
  for (;;) {
    auto d = g.next_deadline();
    armed = d ? *d : std::chrono::steady_clock::time_point::max();
    timer.expires_at(armed);
    co_await timer.async_wait(nothrow);
    if (shared->stopping.load()) co_return;
    out.clear();
    g.on_timer(now(), out);
    flush();
  }
}

void endpoint::close_all() {
  boost::system::error_code ec;
  if (udp_socket) udp_socket->close(ec);
  if (acceptor) acceptor->close(ec);
  timer.cancel();
  for (auto& [id, c] : connections) c->stream.close();
}

server::server(std::vector<asio::io_context*> contexts,
               std::shared_ptr<const config::settings> settings,
               std::shared_ptr<voice_checker> checker)
    : contexts_(std::move(contexts)),
      shared_(std::make_shared<server_shared>(std::move(settings), std::move(checker))) {}

server::~server() {
  // After async_stop every socket is closed; otherwise each worker closes its own.
  if (shared_->stopping.exchange(true)) return;
  for (auto& e : endpoints_) asio::post(e->io, [e] { e->close_all(); });
}

boost::system::error_code server::start() {
  const auto snap = shared_->snapshot();
  const auto& s = snap->dialer.sip;
  if (!s.listen) return {};
  config::listen_address where = *s.listen;
  std::vector<std::shared_ptr<udp::socket>> udps;
  std::vector<std::shared_ptr<tcp::acceptor>> tcps;
  auto fail = [&](const boost::system::error_code& ec, std::string_view what) {
    spdlog::error("sip: cannot listen on {} ({}): {}", where.to_string(), what, ec.message());
    boost::system::error_code ignored;
    for (auto& u : udps) u->close(ignored);
    for (auto& t : tcps) t->close(ignored);
    return ec;
  };
  if (s.udp) {
    auto port = open_udp_sockets(contexts_, where, udps);
    if (!port) return fail(port.error(), "udp");
    where.port = *port;  // TCP joins the port UDP got (port 0 in tests)
  }
  if (s.tcp) {
    auto port = open_tcp_listeners(contexts_, where, tcps);
    if (!port) return fail(port.error(), "tcp");
    where.port = *port;
  }
  port_ = where.port;
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    auto e = std::make_shared<endpoint>(*contexts_[i], unsigned(i), shared_);
    if (s.udp) e->udp_socket = udps[i];
    if (s.tcp) e->acceptor = tcps[i];
    endpoints_.push_back(e);
    // The endpoint's coroutines start on its own thread.
    asio::post(*contexts_[i], [e] {
      if (e->udp_socket) asio::co_spawn(e->io, e->udp_loop(), log_escape);
      if (e->acceptor) asio::co_spawn(e->io, e->accept_loop(), log_escape);
      asio::co_spawn(e->io, e->timer_loop(), log_escape);
    });
  }
  spdlog::info("sip: listening on {}:{} ({}{}{})", where.host, port_, s.udp ? "udp" : "",
               s.udp && s.tcp ? ", " : "", s.tcp ? "tcp" : "");
  return {};
}

asio::awaitable<void> server::async_stop(milliseconds) {
  shared_->stopping.store(true);
  // Each worker closes its own sockets; this resumes once it has.
  for (auto& e : endpoints_)
    co_await asio::co_spawn(
        e->io,
        [e]() -> asio::awaitable<void> {
          e->close_all();
          co_return;
        },
        asio::use_awaitable);
}

void server::update_settings(std::shared_ptr<const config::settings> settings) {
  std::lock_guard lock(shared_->mu);
  const auto& old = shared_->settings->dialer.sip;
  const auto& now = settings->dialer.sip;
  if (old.listen != now.listen || old.udp != now.udp || old.tcp != now.tcp)
    spdlog::warn("sip: dialer.sip.listen or transports changed; that takes effect after a restart");
  shared_->settings = std::move(settings);
}

gate_counters server::stats() const {
  gate_counters sum;
  for (const auto& e : endpoints_) {
    std::lock_guard lock(e->stats_mu);
    const auto& c = e->published;
    sum.invites += c.invites;
    sum.retransmissions += c.retransmissions;
    sum.redirected += c.redirected;
    sum.denied += c.denied;
    sum.deferred += c.deferred;
    sum.refused += c.refused;
    sum.cancelled += c.cancelled;
    sum.check_timeouts += c.check_timeouts;
    sum.bad_requests += c.bad_requests;
    sum.dropped += c.dropped;
    sum.overloaded += c.overloaded;
    sum.ack_timeouts += c.ack_timeouts;
  }
  return sum;
}

}  // namespace stopgate::gateway::dialer::sip
