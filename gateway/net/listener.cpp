#include "gateway/net/listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <string>

namespace stopgate::gateway::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

boost::system::result<std::shared_ptr<asio::ssl::context>> make_tls_server_context(
    const config::settings& s, const std::filesystem::path& cert, const std::filesystem::path& key,
    std::string_view component) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(config::resolve_path(s, cert).string(), ec);
  if (ec) {
    spdlog::error("{0}: cannot load {0}.tls_cert: {1}", component, ec.message());
    return ec;
  }
  ctx->use_private_key_file(config::resolve_path(s, key).string(), asio::ssl::context::pem, ec);
  if (ec) {
    spdlog::error("{0}: cannot load {0}.tls_key: {1}", component, ec.message());
    return ec;
  }
  return ctx;
}

namespace {

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

}  // namespace

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

void log_listener_failure(std::string_view component, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("{}: listener failed: {}", component, x.what());
  }
}

void refusal_log::note(std::string_view component, std::string_view why) {
  since_last_.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto last = last_.load(std::memory_order_relaxed);
  if (now - last < std::chrono::nanoseconds(std::chrono::seconds(1)).count()) return;
  if (!last_.compare_exchange_strong(last, now)) return;
  spdlog::warn("{}: refused connection: {} ({} refused since the last line)", component, why,
               since_last_.exchange(0));
}

}  // namespace stopgate::gateway::net
