#include "gateway/http/server.hpp"

#include "gateway/http/connection.hpp"
#include "gateway/http/server_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <string>

namespace stopgate::gateway::http {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
}  // namespace

/// The open acceptors and the current TLS context (shared with the accept loops).
struct http_listeners {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;

  std::mutex tls_mutex;
  std::shared_ptr<asio::ssl::context> tls_context;  // null: plain HTTP

  // At most one "connection refused" log line per second.
  std::atomic<std::int64_t> last_refusal_log{0};
  std::atomic<std::uint64_t> refusals_since_log{0};

  std::shared_ptr<asio::ssl::context> current_tls() {
    std::lock_guard lock(tls_mutex);
    return tls_context;
  }

  void log_refusal(std::uint32_t limit) {
    refusals_since_log.fetch_add(1, std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_refusal_log.load(std::memory_order_relaxed);
    if (now - last < std::chrono::nanoseconds(1s).count()) return;
    if (!last_refusal_log.compare_exchange_strong(last, now)) return;
    spdlog::warn("http: refused connection: http.max_connections ({}) reached ({} refused since the last line)",
                 limit, refusals_since_log.exchange(0));
  }
};

namespace {

bool tls_configured(const config::settings& s) {
  return !s.http.tls_cert.empty() && !s.http.tls_key.empty();
}

boost::system::result<std::shared_ptr<asio::ssl::context>> make_tls_context(const config::settings& s) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(config::resolve_path(s, s.http.tls_cert).string(), ec);
  if (ec) {
    spdlog::error("http: cannot load http.tls_cert: {}", ec.message());
    return ec;
  }
  ctx->use_private_key_file(config::resolve_path(s, s.http.tls_key).string(), asio::ssl::context::pem, ec);
  if (ec) {
    spdlog::error("http: cannot load http.tls_key: {}", ec.message());
    return ec;
  }
  return ctx;
}

boost::system::result<tcp::endpoint> resolve(asio::io_context& io, const config::listen_address& a) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(a.host, ec);
  if (!ec) return tcp::endpoint(addr, a.port);
  tcp::resolver resolver(io);
  auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec) return ec;
  if (results.empty()) return asio::error::host_not_found;
  return results.begin()->endpoint();
}

/// One acceptor per context on the same address; returns the bound port.
boost::system::result<std::uint16_t> open_acceptors(const std::vector<asio::io_context*>& contexts,
                                                    const config::listen_address& where,
                                                    std::vector<std::shared_ptr<tcp::acceptor>>& out) {
  auto ep = resolve(*contexts.front(), where);
  if (!ep) return ep.error();
  tcp::endpoint endpoint = *ep;
  for (auto* io : contexts) {
    auto acc = std::make_shared<tcp::acceptor>(*io);
    boost::system::error_code ec;
    acc->open(endpoint.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    // Every context binds the same port; the kernel spreads new connections across them.
    if (!ec) acc->set_option(reuse_port(true), ec);
    if (!ec) acc->bind(endpoint, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return ec;
    // Port 0 picks a free port once; the other acceptors join it.
    endpoint.port(acc->local_endpoint().port());
    out.push_back(std::move(acc));
  }
  return endpoint.port();
}

awaitable<void> accept_loop(std::shared_ptr<server_state> st, std::shared_ptr<http_listeners> ls,
                            std::shared_ptr<tcp::acceptor> acc, asio::io_context& io, std::size_t index) {
  for (;;) {
    // Each connection gets its own strand: its coroutine and everything it posts are serialised.
    auto [ec, sock] = co_await acc->async_accept(asio::make_strand(io), nothrow);
    if (st->stopping.load() || !acc->is_open()) co_return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      // Out of descriptors or similar: pause instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
      co_await pause.async_wait(nothrow);
      continue;
    }
    auto& block = st->counters.block(index);
    auto limit = st->snapshot()->settings->http.max_connections;
    if (st->open.fetch_add(1, std::memory_order_relaxed) >= std::int64_t(limit)) {
      st->open.fetch_sub(1, std::memory_order_relaxed);
      block.add(block.connections_rejected);
      ls->log_refusal(limit);
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

void log_task_error(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("http: listener failed: {}", x.what());
  }
}

void close_all(http_listeners& ls) {
  for (auto& acc : ls.acceptors) {
    asio::post(acc->get_executor(), [acc] {
      boost::system::error_code ec;
      acc->close(ec);
    });
  }
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
  auto port = open_acceptors(contexts_, *s.http.listen, ls.acceptors);
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
  state_->for_each_connection([](const auto& c) { c->begin_shutdown(); });
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + grace;
  // Polling is fine here: it runs once, at shutdown.
  while (state_->open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(5ms);
    co_await timer.async_wait(nothrow);
  }
  if (state_->open.load() > 0) {
    spdlog::warn("http: closing {} connections still busy after the {} ms grace period",
                 state_->open.load(), grace.count());
    state_->for_each_connection([](const auto& c) { c->force_close(); });
    auto hard = std::chrono::steady_clock::now() + 1s;
    while (state_->open.load() > 0 && std::chrono::steady_clock::now() < hard) {
      timer.expires_after(5ms);
      co_await timer.async_wait(nothrow);
    }
  }
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
