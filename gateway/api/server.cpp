#include "gateway/api/server.hpp"

#include "gateway/api/connection.hpp"
#include "gateway/api/server_state.hpp"
#include "gateway/net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

namespace stopgate::gateway::api {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using unix_proto = asio::local::stream_protocol;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

/// The open acceptors and the TLS context (shared with the accept loops).
struct listeners {
  std::vector<std::shared_ptr<tcp::acceptor>> plain;
  std::vector<std::shared_ptr<tcp::acceptor>> tls;
  std::shared_ptr<unix_proto::acceptor> unix_socket;
  fs::path unix_path;
  std::vector<asio::io_context*> contexts;
  std::atomic<std::size_t> next_context{0};

  std::mutex tls_mutex;
  std::shared_ptr<asio::ssl::context> tls_context;
  std::shared_ptr<const config::settings> tls_source;  // the settings the context was built from

  net::refusal_log refusals;

  std::shared_ptr<asio::ssl::context> current_tls() {
    std::lock_guard lock(tls_mutex);
    return tls_context;
  }
};

namespace {

auto make_tls_context(const config::settings& s) {
  return net::make_tls_server_context(s, s.api.tls_cert, s.api.tls_key, "api");
}

void log_task_error(const std::exception_ptr& e) { net::log_listener_failure("api", e); }

std::string limit_reached(const config::settings& s) {
  return "api.max_connections (" + std::to_string(s.api.max_connections) + ") reached";
}

// Each loop holds its own acceptor but only a weak reference to the listeners: the server
// owns them, so the last reference never goes with another context's pending handlers (which
// would destroy acceptors of contexts already gone).
awaitable<void> accept_tcp(std::shared_ptr<server_state> st, std::weak_ptr<listeners> weak,
                           std::shared_ptr<tcp::acceptor> acc, std::size_t index, bool tls) {
  for (;;) {
    auto [ec, sock] = co_await acc->async_accept(nothrow);
    if (st->stopping.load() || !acc->is_open()) co_return;
    if (ec) {
      spdlog::warn("api: accept failed: {}", ec.message());
      // Out of descriptors or similar: pause instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
      co_await pause.async_wait(nothrow);
      continue;
    }
    const auto ls = weak.lock();
    if (!ls) co_return;
    auto& block = st->counters.block(index);
    auto snap = st->snapshot();
    boost::system::error_code peer_ec;
    auto peer = sock.remote_endpoint(peer_ec);
    if (peer_ec) continue;
    bool loopback = is_loopback_address(peer.address());
    if (snap->keys.empty() && !loopback) {
      block.add(block.connections_rejected);
      ls->refusals.note("api", peer.address().to_string() + " is not a loopback peer and no API keys are configured");
      continue;
    }
    if (!st->reserve_connection(snap->settings->api.max_connections)) {
      block.add(block.connections_rejected);
      ls->refusals.note("api", limit_reached(*snap->settings));
      continue;
    }
    boost::system::error_code opt_ec;
    sock.set_option(tcp::no_delay(true), opt_ec);  // responses are small and latency matters
    if (tls) {
      start_connection(st, asio::ssl::stream<tcp::socket>(std::move(sock), *ls->current_tls()), index,
                       loopback);
    } else {
      start_connection(st, std::move(sock), index, loopback);
    }
  }
}

awaitable<void> accept_unix(std::shared_ptr<server_state> st, std::weak_ptr<listeners> weak,
                            std::shared_ptr<unix_proto::acceptor> acc) {
  for (;;) {
    std::size_t target = 0;
    asio::any_io_executor target_ex;
    if (auto ls = weak.lock()) {
      target = ls->next_context.fetch_add(1) % ls->contexts.size();
      target_ex = ls->contexts[target]->get_executor();
    } else {
      co_return;
    }
    // The accepted socket belongs to the target context: connections spread over threads.
    auto [ec, sock] = co_await acc->async_accept(target_ex, nothrow);
    if (st->stopping.load() || !acc->is_open()) co_return;
    if (ec) {
      spdlog::warn("api: unix accept failed: {}", ec.message());
      asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
      co_await pause.async_wait(nothrow);
      continue;
    }
    const auto ls = weak.lock();
    if (!ls) co_return;
    auto snap = st->snapshot();
    if (!st->reserve_connection(snap->settings->api.max_connections)) {
      auto& block = st->counters.block(target);
      block.add(block.connections_rejected);
      ls->refusals.note("api", limit_reached(*snap->settings));
      continue;
    }
    start_connection(st, unix_proto::socket(std::move(sock)), target);
  }
}

boost::system::error_code open_unix(listeners& ls, const config::settings& s) {
  fs::path path = config::resolve_path(s, s.api.unix_socket);
  std::error_code fec;
  fs::create_directories(path.parent_path(), fec);
  auto status = fs::symlink_status(path, fec);
  if (fs::is_socket(status)) {
    fs::remove(path, fec);  // left by a previous run
  } else if (fs::exists(status)) {
    spdlog::error("api: {} exists and is not a socket", path.string());
    return asio::error::address_in_use;
  }
  auto acc = std::make_shared<unix_proto::acceptor>(*ls.contexts.front());
  boost::system::error_code ec;
  acc->open(unix_proto(), ec);
  if (!ec) acc->bind(unix_proto::endpoint(path.string()), ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("api: cannot listen on unix socket {}: {}", path.string(), ec.message());
    return ec;
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::group_write, fec);
  ls.unix_socket = std::move(acc);
  ls.unix_path = path;
  return {};
}

void close_all(listeners& ls) {
  for (auto& a : ls.plain) net::close_on_own_executor(a);
  for (auto& a : ls.tls) net::close_on_own_executor(a);
  if (ls.unix_socket) {
    net::close_on_own_executor(ls.unix_socket);
    std::error_code fec;
    fs::remove(ls.unix_path, fec);
  }
}

}  // namespace

api_server::api_server(std::vector<asio::io_context*> contexts,
                       std::shared_ptr<const config::settings> settings,
                       std::shared_ptr<dispatcher> dispatch)
    : contexts_(std::move(contexts)),
      state_(std::make_shared<server_state>(std::move(dispatch), contexts_.size(), std::move(settings))),
      listeners_(std::make_shared<listeners>()) {
  listeners_->contexts = contexts_;
}

api_server::~api_server() {
  if (!state_->stopping.exchange(true)) close_all(*listeners_);
}

boost::system::error_code api_server::start() {
  auto snap = state_->snapshot();
  const config::settings& s = *snap->settings;
  auto& ls = *listeners_;
  auto fail = [&](boost::system::error_code ec) {
    close_all(ls);
    ls.plain.clear();
    ls.tls.clear();
    ls.unix_socket.reset();
    return ec;
  };
  if (s.api.listen) {
    auto port = net::open_acceptors(contexts_, *s.api.listen, ls.plain);
    if (!port) {
      spdlog::error("api: cannot listen on {}: {}", s.api.listen->to_string(), port.error().message());
      return fail(port.error());
    }
    tcp_port_ = *port;
  }
  if (s.api.tls_listen) {
    auto ctx = make_tls_context(s);
    if (!ctx) return fail(ctx.error());
    {
      std::lock_guard lock(ls.tls_mutex);
      ls.tls_context = *ctx;
      ls.tls_source = snap->settings;
    }
    auto port = net::open_acceptors(contexts_, *s.api.tls_listen, ls.tls);
    if (!port) {
      spdlog::error("api: cannot listen on {}: {}", s.api.tls_listen->to_string(),
                    port.error().message());
      return fail(port.error());
    }
    tls_port_ = *port;
  }
  if (!s.api.unix_socket.empty()) {
    if (auto ec = open_unix(ls, s)) return fail(ec);
  }
  for (std::size_t i = 0; i < ls.plain.size(); ++i) {
    asio::co_spawn(*contexts_[i], accept_tcp(state_, listeners_, ls.plain[i], i, false), log_task_error);
  }
  for (std::size_t i = 0; i < ls.tls.size(); ++i) {
    asio::co_spawn(*contexts_[i], accept_tcp(state_, listeners_, ls.tls[i], i, true), log_task_error);
  }
  if (ls.unix_socket) {
    asio::co_spawn(*contexts_.front(), accept_unix(state_, listeners_, ls.unix_socket), log_task_error);
  }
  spdlog::info("api: listening{}{}{}", s.api.listen ? " tcp " + s.api.listen->host + ":" + std::to_string(tcp_port_) : "",
               s.api.tls_listen ? " tls " + s.api.tls_listen->host + ":" + std::to_string(tls_port_) : "",
               ls.unix_socket ? " unix " + ls.unix_path.string() : "");
  return {};
}

awaitable<void> api_server::async_stop(std::chrono::milliseconds grace) {
  state_->stopping.store(true);
  close_all(*listeners_);
  co_await state_->async_drain("api", grace);
}

void api_server::update_settings(std::shared_ptr<const config::settings> settings) {
  auto& ls = *listeners_;
  {
    std::lock_guard lock(ls.tls_mutex);
    bool tls_changed = ls.tls_source && settings->api.tls_listen &&
                       (ls.tls_source->api.tls_cert != settings->api.tls_cert ||
                        ls.tls_source->api.tls_key != settings->api.tls_key);
    // The same paths may hold renewed files: reload whenever TLS is on.
    if (ls.tls_context && settings->api.tls_listen) {
      if (auto ctx = make_tls_context(*settings)) {
        ls.tls_context = *ctx;
        ls.tls_source = settings;
      } else {
        spdlog::error("api: keeping the previous TLS certificate{}", tls_changed ? " (new paths failed)" : "");
      }
    }
  }
  const auto& old = *state_->snapshot()->settings;
  if (old.api.listen != settings->api.listen || old.api.tls_listen != settings->api.tls_listen ||
      old.api.unix_socket != settings->api.unix_socket) {
    spdlog::warn("api: listener addresses changed; they take effect after a restart");
  }
  state_->set_settings(std::move(settings));
}

counters_snapshot api_server::stats() const { return state_->counters.snapshot(); }

}  // namespace stopgate::gateway::api
