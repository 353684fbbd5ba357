#include "gateway/http/server.hpp"

#include "gateway/http/connection.hpp"
#include "gateway/http/server_state.hpp"
#include "gateway/net/executor.hpp"
#include "gateway/net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <string>

namespace stopgate::gateway::http {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

/// The open acceptors and the current TLS context (shared with the accept loops).
struct http_listeners {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;

  std::mutex tls_mutex;
  std::shared_ptr<asio::ssl::context> tls_context;  // null: plain HTTP

  net::refusal_log refusals;

  std::shared_ptr<asio::ssl::context> current_tls() {
    std::lock_guard lock(tls_mutex);
    return tls_context;
  }
};

namespace {

bool tls_configured(const config::settings& s) {
  return !s.http.tls_cert.empty() && !s.http.tls_key.empty();
}

auto make_tls_context(const config::settings& s) {
  return net::make_tls_server_context(s, s.http.tls_cert, s.http.tls_key, "http");
}

// The loop holds its own acceptor but only a weak reference to the listeners: the server owns
// them, so the last reference never goes with another context's pending handlers (which would
// destroy acceptors of contexts already gone).
awaitable<void> accept_loop(std::shared_ptr<server_state> st, std::weak_ptr<http_listeners> weak,
                            std::shared_ptr<tcp::acceptor> acc, asio::io_context& io, std::size_t index) {
  for (;;) {
    // Each connection's coroutine and everything it posts are serialised: by the context's one
    // thread, or by a strand of its own.
    auto [ec, sock] = co_await acc->async_accept(net::connection_executor(io.get_executor()), nothrow);
    if (st->stopping.load() || !acc->is_open()) co_return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      // Out of descriptors or similar: pause instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
      co_await pause.async_wait(nothrow);
      continue;
    }
    const auto ls = weak.lock();
    if (!ls) co_return;
    auto& block = st->counters.block(index);
    auto limit = st->snapshot()->settings->http.max_connections;
    if (!st->reserve_connection(limit)) {
      block.add(block.connections_rejected);
      ls->refusals.note("http", "http.max_connections (" + std::to_string(limit) + ") reached");
      continue;  // the socket closes as it goes out of scope
    }
    boost::system::error_code peer_ec;
    auto peer = sock.remote_endpoint(peer_ec);
    if (peer_ec) {
      st->open.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    boost::system::error_code opt_ec;
    sock.set_option(tcp::no_delay(true), opt_ec);  // responses are small and latency matters
    start_connection(st, std::move(sock), ls->current_tls(), index, peer.address(),
                     api::is_loopback_address(peer.address()));
  }
}

void log_task_error(const std::exception_ptr& e) { net::log_listener_failure("http", e); }

void close_all(http_listeners& ls) {
  for (auto& acc : ls.acceptors) net::close_on_own_executor(acc);
}

}  // namespace

http_server::http_server(std::vector<asio::io_context*> contexts,
                         std::shared_ptr<const config::settings> settings,
                         std::shared_ptr<api::dispatcher> dispatch, providers provide)
    : contexts_(std::move(contexts)),
      state_(std::make_shared<server_state>(std::move(dispatch), std::move(provide), contexts_.size(),
                                            std::move(settings))),
      listeners_(std::make_shared<http_listeners>()) {
  using beast_http::verb;
  auto& r = state_->routes;
  r.add_builtin(verb::get, "/healthz", route_kind::healthz);
  r.add_builtin(verb::get, "/readyz", route_kind::readyz);
  r.add_builtin(verb::get, "/metrics", route_kind::metrics);
  r.add_builtin(verb::post, "/v1/ops", route_kind::ops);
  r.add_builtin(verb::get, "/v1/check", route_kind::check);
  state_->route_labels = r.labels();
}

http_server::~http_server() {
  if (!state_->stopping.exchange(true)) close_all(*listeners_);
}

boost::system::error_code http_server::add_route(beast_http::verb method, std::string path_prefix,
                                                 route_handler handler) {
  if (started_) return http_errc::already_started;
  auto ec = state_->routes.add_hook(method, std::move(path_prefix), std::move(handler));
  if (!ec) state_->route_labels = state_->routes.labels();
  return ec;
}

boost::system::error_code http_server::start() {
  started_ = true;
  auto snap = state_->snapshot();
  const config::settings& s = *snap->settings;
  if (!s.http.listen) return {};
  auto& ls = *listeners_;
  if (tls_configured(s)) {
    auto ctx = make_tls_context(s);
    if (!ctx) return ctx.error();
    std::lock_guard lock(ls.tls_mutex);
    ls.tls_context = *ctx;
    tls_ = true;
  }
  auto port = net::open_acceptors(contexts_, *s.http.listen, ls.acceptors);
  if (!port) {
    spdlog::error("http: cannot listen on {}: {}", s.http.listen->to_string(), port.error().message());
    close_all(ls);
    ls.acceptors.clear();
    return port.error();
  }
  port_ = *port;
  for (std::size_t i = 0; i < ls.acceptors.size(); ++i) {
    asio::co_spawn(*contexts_[i], accept_loop(state_, listeners_, ls.acceptors[i], *contexts_[i], i),
                   log_task_error);
  }
  spdlog::info("http: listening on {}:{}{}", s.http.listen->host, port_, tls_ ? " (TLS)" : "");
  return {};
}

awaitable<void> http_server::async_stop(std::chrono::milliseconds grace) {
  state_->stopping.store(true);
  close_all(*listeners_);
  co_await state_->async_drain("http", grace);
}

void http_server::update_settings(std::shared_ptr<const config::settings> settings) {
  auto& ls = *listeners_;
  {
    std::lock_guard lock(ls.tls_mutex);
    // The same paths may hold renewed files: reload whenever TLS is on.
    if (ls.tls_context && tls_configured(*settings)) {
      if (auto ctx = make_tls_context(*settings)) {
        ls.tls_context = *ctx;
      } else {
        spdlog::error("http: keeping the previous TLS certificate");
      }
    }
  }
  const auto& old = *state_->snapshot()->settings;
  if (old.http.listen != settings->http.listen || tls_configured(old) != tls_configured(*settings)) {
    spdlog::warn("http: the listen address or TLS on/off changed; that takes effect after a restart");
  }
  state_->set_settings(std::move(settings));
}

std::vector<metric_family> http_server::metric_families() const {
  return state_->counters.families(state_->route_labels);
}

http_counters_snapshot http_server::stats() const { return state_->counters.snapshot(); }

std::size_t http_server::route_index(std::string_view path) const {
  const auto& labels = state_->route_labels;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == path) return i;
  }
  return unmatched_route;
}

}  // namespace stopgate::gateway::http
