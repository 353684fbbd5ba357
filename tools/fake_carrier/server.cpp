#include "tools/fake_carrier/server.hpp"

#include "tools/fake_carrier/control.hpp"
#include "tools/fake_carrier/dialect.hpp"
#include "tools/fake_carrier/protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::fake_carrier {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// One accepted connection. Used only on its own strand (the stream's executor).
struct connection {
  explicit connection(tcp::socket s) : stream(std::move(s)), timer(stream.get_executor()) {}
  beast::tcp_stream stream;
  asio::steady_timer timer;  // fault delays

  void close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    timer.cancel();
  }
};

void log_exception(const char* where, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "fake_carrier: %s: %s\n", where, ex.what());
  }
}

std::uint64_t random_u64() {
  std::random_device rd;
  return (std::uint64_t(rd()) << 32) ^ rd();
}

}  // namespace

struct server::state {
  explicit state(server_options o)
      : opts(std::move(o)),
        faults(opts.seed != 0 ? opts.seed : random_u64()),
        rec(opts.max_records),
        ids(opts.seed != 0 ? opts.seed * 0x9E3779B97F4A7C15ull : random_u64()) {}

  server_options opts;
  // First member after the options: destroyed last, after everything that uses it.
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> accept_strand = asio::make_strand(io);
  tcp::acceptor acceptor{accept_strand};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  unsigned short port = 0;

  fault_table faults;
  recorder rec;
  id_source ids;

  std::mutex mutex;  // guards the members below
  std::condition_variable idle;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> live;
  std::uint64_t next_connection = 0;
  bool stopping = false;

  std::chrono::system_clock::time_point now() const {
    return opts.clock ? opts.clock() : std::chrono::system_clock::now();
  }

  void forget(std::uint64_t id) {
    std::lock_guard lock(mutex);
    live.erase(id);
    if (live.empty()) idle.notify_all();
  }
};

namespace {

using state = server::state;

asio::awaitable<bool> write_reply(connection& c, const reply& rep, unsigned version,
                                  bool keep_alive) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(rep.status));
  res.set(bhttp::field::server, "stopgate-fake-carrier");
  res.set(bhttp::field::content_type, rep.content_type);
  for (const auto& [name, value] : rep.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  res.body() = rep.body;
  res.prepare_payload();
  auto [ec, n] = co_await bhttp::async_write(c.stream, res, use_tuple);
  co_return !ec;
}

// The timeout fault: hold the connection, reading and discarding, until the client gives up
// (EOF / reset), the server stops (close), or hang_limit passes.
asio::awaitable<void> hang(state& st, connection& c) {
  c.stream.expires_after(st.opts.hang_limit);
  std::array<char, 512> sink;
  for (;;) {
    auto [ec, n] = co_await c.stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) co_return;
  }
}

// One connection: read a request, answer it, repeat while keep-alive holds.
asio::awaitable<void> session(state& st, std::shared_ptr<connection> conn) {
  connection& c = *conn;
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(st.opts.max_header_bytes));
    parser.body_limit(st.opts.max_body_bytes);
    c.stream.expires_after(st.opts.idle_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(c.stream, buffer, parser, use_tuple);
    if (hec) break;

    const auto& head = parser.get();
    const unsigned version = head.version();
    const bool keep_alive = head.keep_alive();
    const std::string method(head.method_string());
    const std::string target(head.target());
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    const credentials& creds = st.opts.creds;

    std::optional<config::carrier_type> carrier;
    fault_plan plan;
    recorded_request rec;
    if (!path.starts_with(control_prefix)) {
      carrier = route(method, path, creds);
      if (carrier) {
        plan = st.faults.pick(*carrier);
        rec.carrier = *carrier;
        rec.method = method;
        rec.target = target;
        for (const auto& f : head)
          rec.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        rec.received_at = st.now();
        rec.delay = plan.delay;
        if (plan.action) {
          rec.fault = plan.action->kind;
          rec.result = outcome::faulted;
        }
      }
    }
    const auto action = plan.action ? std::optional(plan.action->kind) : std::nullopt;

    if (action == fault_kind::drop_before_body) {
      st.rec.record(std::move(rec));
      c.close();
      co_return;
    }
    // Clients other than stopgate's (curl on the command line) may wait for a 100 before
    // sending a large body.
    if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
      auto [cec, cn] = co_await bhttp::async_write(c.stream, cont, use_tuple);
      if (cec) break;
    }
    auto [bec, bn] = co_await bhttp::async_read(c.stream, buffer, parser, use_tuple);
    if (bec) break;
    const std::string& body = parser.get().body();

    if (!carrier) {
      reply rep;
      if (path.starts_with(control_prefix)) {
        rep = handle_control(method, target, body, st.faults, st.rec);
      } else {
        st.rec.count_not_found();
        rep = dialect::json_reply(404, boost::json::object{{"error", "no such endpoint"}},
                                  outcome::invalid);
      }
      if (!co_await write_reply(c, rep, version, keep_alive) || !keep_alive) break;
      continue;
    }

    rec.body = body;
    if (plan.delay.count() > 0) {
      c.stream.expires_never();
      c.timer.expires_after(plan.delay);
      auto [tec] = co_await c.timer.async_wait(use_tuple);
      if (tec) co_return;  // stopping
    }
    if (action == fault_kind::drop_after_body) {
      st.rec.record(std::move(rec));
      c.close();
      co_return;
    }
    if (action == fault_kind::timeout) {
      st.rec.record(std::move(rec));
      co_await hang(st, c);
      co_return;
    }

    const std::string_view query =
        path.size() < target.size() ? std::string_view(target).substr(path.size() + 1) : "";
    const request_view view{method, path, rec.headers, rec.body, query};
    const answer_context ctx{creds, st.ids, st.now()};
    reply rep = answer(*carrier, view, plan.action, ctx);
    rec.status = rep.status;
    rec.result = rep.result;
    rec.message_id = rep.message_id;
    rec.async_error = rep.async_error;
    // Record before answering: once the client has the answer, the record is there.
    st.rec.record(std::move(rec));
    if (!co_await write_reply(c, rep, version, keep_alive) || !keep_alive) break;
  }
  beast::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(state& st) {
  for (;;) {
    auto [ec, sock] = co_await st.acceptor.async_accept(asio::make_strand(st.io), use_tuple);
    if (!st.acceptor.is_open()) co_return;
    if (ec) {
      // E.g. out of file descriptors: pause rather than spin.
      asio::steady_timer pause(st.accept_strand, std::chrono::milliseconds(10));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    st.rec.count_connection();
    auto conn = std::make_shared<connection>(std::move(sock));
    std::uint64_t id = 0;
    {
      std::lock_guard lock(st.mutex);
      if (st.stopping || st.live.size() >= st.opts.max_connections) {
        conn->close();
        continue;
      }
      id = ++st.next_connection;
      st.live.emplace(id, conn);
    }
    asio::co_spawn(conn->stream.get_executor(), session(st, conn),
                   [&st, id](std::exception_ptr e) {
                     log_exception("connection", e);
                     st.forget(id);
                   });
  }
}

}  // namespace

boost::system::result<std::unique_ptr<server>> server::start(server_options opts) {
  if (opts.threads == 0) opts.threads = 1;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(opts.address, ec);
  if (ec) return ec;
  auto st = std::make_unique<state>(std::move(opts));
  const tcp::endpoint ep(address, st->opts.port);
  st->acceptor.open(ep.protocol(), ec);
  if (!ec) st->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(ep, ec);
  if (!ec) st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  st->port = st->acceptor.local_endpoint(ec).port();
  if (ec) return ec;

  state& s = *st;
  asio::co_spawn(s.accept_strand, accept_loop(s),
                 [](std::exception_ptr e) { log_exception("accept", e); });
  s.work.emplace(s.io.get_executor());
  for (unsigned i = 0; i < s.opts.threads; ++i)
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.io.run();
          return;
        } catch (const std::exception& ex) {
          std::fprintf(stderr, "fake_carrier: io thread: %s\n", ex.what());
        }
      }
    });
  return std::unique_ptr<server>(new server(std::move(st)));
}

server::server(std::unique_ptr<state> st) : state_(std::move(st)) {}

server::~server() { stop(); }

unsigned short server::port() const noexcept { return state_->port; }

std::string server::base_url() const {
  const std::string& a = state_->opts.address;
  const bool v6 = a.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + a + "]" : a) + ":" + std::to_string(state_->port);
}

const credentials& server::creds() const noexcept { return state_->opts.creds; }

config::carrier_settings server::settings_for(config::carrier_type type) const {
  return fake_carrier::settings_for(type, creds(), base_url());
}

void server::add_fault(fault f) { state_->faults.add(std::move(f)); }
void server::clear_faults() { state_->faults.clear(); }
std::vector<fault> server::faults() const { return state_->faults.list(); }

std::vector<recorded_request> server::requests(
    std::optional<config::carrier_type> carrier) const {
  return state_->rec.requests(carrier);
}
stats server::counters() const { return state_->rec.snapshot(); }
void server::clear() { state_->rec.clear(); }
void server::reset() {
  state_->faults.clear();
  state_->rec.clear();
}

void server::stop(std::chrono::milliseconds grace) {
  state& st = *state_;
  {
    std::unique_lock lock(st.mutex);
    if (st.stopping) return;
    st.stopping = true;
    for (const auto& entry : st.live) {
      // Named, not a structured binding: clang 14 cannot capture one.
      const auto& conn = entry.second;
      asio::post(conn->stream.get_executor(), [conn] { conn->close(); });
    }
  }
  asio::post(st.accept_strand, [&st] {
    boost::system::error_code ec;
    st.acceptor.close(ec);
  });
  {
    std::unique_lock lock(st.mutex);
    st.idle.wait_for(lock, grace, [&] { return st.live.empty(); });
  }
  st.work.reset();
  st.io.stop();
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  // Sessions that outlived the grace die with the io_context; drop our references first.
  std::lock_guard lock(st.mutex);
  st.live.clear();
}

}  // namespace stopgate::fake_carrier
