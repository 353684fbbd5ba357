#include "redis/client.hpp"

#include "redis/cluster.hpp"
#include "redis/connection.hpp"
#include "redis/exec.hpp"
#include "redis/resp.hpp"
#include "redis/sentinel.hpp"

namespace stopgate::redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

bool is_readonly(const reply& r) noexcept {
  return r.is_error() && r.str.starts_with("READONLY");
}

}  // namespace

client::client(asio::any_io_executor ex, client_options opts) {
  if (opts.ep.type == endpoint::kind::cluster) {
    cluster_ = std::make_shared<detail::cluster>(std::move(ex), std::move(opts));
    return;
  }
  const bool sentinel = opts.ep.type == endpoint::kind::sentinel;
  if (sentinel) sentinel_ = std::make_shared<detail::sentinel_watch>(ex, opts);
  conn_ = std::make_shared<detail::connection>(std::move(ex), std::move(opts), "client");
  if (sentinel) sentinel_->follow(conn_, /*require_primary=*/true);
}

client::~client() {
  stop();
}

void client::start() {
  if (cluster_) return cluster_->start();
  if (sentinel_) sentinel_->start();
  conn_->start();
}

void client::stop() {
  if (cluster_) return cluster_->stop();
  conn_->stop();
  if (sentinel_) sentinel_->stop();
}

bool client::connected() const noexcept {
  return cluster_ ? cluster_->ready() : conn_->ready();
}

client_stats client::stats() const noexcept {
  if (cluster_) return cluster_->stats();
  if (sentinel_) return sentinel_->stats();
  return {};
}

asio::awaitable<error_code> client::async_wait_connected(std::chrono::milliseconds timeout) {
  if (cluster_) {
    auto cl = cluster_;
    co_return co_await cl->async_wait_connected(timeout);
  }
  auto conn = conn_;
  co_return co_await conn->async_wait_connected(timeout);
}

asio::awaitable<boost::system::result<reply>> client::async_exec(command_args args) {
  // Formatted before the first suspension, while the caller's strings are alive.
  co_return co_await async_exec(args.span(), args.key());
}

asio::awaitable<boost::system::result<reply>> client::async_exec(
    std::span<const std::string_view> args, key_index key) {
  if (args.empty() || is_mode_command(args[0]) ||
      (key != key_by_rule && key != no_key && key >= args.size()))
    co_return make_error_code(errc::bad_command);
  if (cluster_) {
    auto cl = cluster_;  // the router outlives this call even if the client does not
    co_return co_await cl->async_exec(args, key);
  }
  auto conn = conn_;  // the connection outlives this call even if the client does not
  if (!conn->ready()) {
    co_return make_error_code(conn->current() == detail::connection::state::stopped
                                  ? errc::stopped
                                  : errc::not_connected);
  }
  std::string& buf = conn->scratch;
  buf.clear();
  // One huge value should not pin its buffer for the life of the process.
  if (buf.capacity() > (8u << 20)) buf.shrink_to_fit();
  append_command(buf, args);
  auto op = detail::submit(
      *conn, 1, buf.size(), [&](std::size_t) { return std::string_view(buf); }, false);
  if (!op) co_return op.error();
  if (auto ec = co_await detail::await_op(*op, conn->options().command_timeout)) co_return ec;
  // (Through the connection, alive here even if the client is not.)
  if ((*op)->single.is_error() && conn->on_readonly && is_readonly((*op)->single))
    conn->on_readonly();
  co_return std::move((*op)->single);
}

asio::awaitable<boost::system::result<std::vector<reply>>> client::async_exec(const pipeline& p) {
  if (!p.valid()) co_return make_error_code(errc::bad_command);
  if (p.size() == 0) co_return std::vector<reply>{};
  if (cluster_) {
    auto cl = cluster_;
    co_return co_await cl->async_exec(p);
  }
  auto conn = conn_;
  auto op = detail::submit(
      *conn, p.size(), p.buffer().size(), [&](std::size_t i) { return p.command(i); }, true);
  if (!op) co_return op.error();
  if (auto ec = co_await detail::await_op(*op, conn->options().command_timeout)) co_return ec;
  if (conn->on_readonly) {
    for (const reply& r : (*op)->many) {
      if (is_readonly(r)) {
        conn->on_readonly();
        break;
      }
    }
  }
  co_return std::move((*op)->many);
}

void client::enable_tracking(std::function<void(std::span<const std::string_view>)> on_keys,
                             std::function<void()> on_reset) {
  if (cluster_) cluster_->enable_tracking(std::move(on_keys), std::move(on_reset));
}

std::uint64_t client::tracking_epoch() const noexcept {
  return cluster_ ? cluster_->tracking_epoch() : 0;
}

bool client::tracked(int slot) const noexcept {
  return cluster_ && cluster_->tracked(slot);
}

asio::awaitable<std::vector<std::uint8_t>> client::async_tracking_barrier(
    std::span<const std::uint16_t> slots) {
  if (!cluster_) co_return std::vector<std::uint8_t>(slots.size(), 0);
  auto cl = cluster_;
  co_return co_await cl->async_tracking_barrier(slots);
}

}  // namespace stopgate::redis
