#include "redis/client.hpp"

#include "redis/connection.hpp"
#include "redis/resp.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// The state one awaiting call shares with hiredis. hiredis holds it (through `hold`) until
// it has called back once per queued command, so a reply arriving after its waiter timed
// out lands here safely and is dropped.
struct pending_op {
  explicit pending_op(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // the deadline; cancelled to wake the waiter when done
  reply single;
  std::vector<reply> many;
  bool batch = false;
  std::size_t remaining = 0;  // reply callbacks hiredis still owes
  error_code ec;
  bool done = false;
  bool abandoned = false;  // the waiter gave up: convert nothing more
  std::shared_ptr<pending_op> hold;
};

reply to_reply(const redisReply* r) {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.kind = reply::type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.kind = reply::type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = reply::type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = reply::type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = reply::type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(to_reply(r->element[i]));
      break;
    default:
      out.kind = reply::type::nil;
      break;
  }
  return out;
}

void on_reply(redisAsyncContext* ac, void* r, void* priv) {
  auto* op = static_cast<pending_op*>(priv);
  auto* conn = static_cast<detail::connection*>(ac->data);
  --conn->in_flight;
  if (r == nullptr) {
    // hiredis is tearing the context down: the command may or may not have run.
    if (!op->ec) op->ec = conn->closing_code();
  } else if (!op->abandoned && !op->ec) {
    const auto* rep = static_cast<const redisReply*>(r);
    if (op->batch)
      op->many.push_back(to_reply(rep));
    else
      op->single = to_reply(rep);
  }
  if (--op->remaining == 0) {
    op->done = true;
    // cancel() queues the waiter's completion on the executor: nothing re-enters hiredis.
    op->timer.cancel();
    auto last = std::move(op->hold);  // may destroy op, after which it is not touched
  }
}

// Queues `n` commands (command_at(i) gives each RESP text, NUL-terminated in memory after
// it) under one pending_op.
template <class CommandAt>
boost::system::result<std::shared_ptr<pending_op>> submit(detail::connection& c, std::size_t n,
                                                          std::size_t bytes, CommandAt command_at,
                                                          bool batch) {
  if (!c.ready())
    return make_error_code(c.current() == detail::connection::state::stopped ? errc::stopped
                                                                             : errc::not_connected);
  redisAsyncContext* ac = c.context();
  if (c.in_flight + n > c.options().max_pending ||
      sdslen(ac->c.obuf) + bytes > c.options().max_unsent_bytes)
    return make_error_code(errc::overloaded);
  auto op = std::make_shared<pending_op>(c.executor());
  op->batch = batch;
  if (batch) op->many.reserve(n);
  std::size_t queued = 0;
  for (; queued < n; ++queued) {
    const std::string_view cmd = command_at(queued);
    if (redisAsyncFormattedCommand(ac, &on_reply, op.get(), cmd.data(), cmd.size()) != REDIS_OK)
      break;
  }
  c.in_flight += queued;
  if (queued == 0) return make_error_code(errc::connection_lost);
  if (queued < n) op->ec = errc::connection_lost;
  op->remaining = queued;
  op->hold = op;
  return op;
}

asio::awaitable<error_code> await_op(std::shared_ptr<pending_op> op,
                                     std::chrono::milliseconds timeout) {
  if (!op->done) {
    op->timer.expires_after(timeout);
    auto [ec] = co_await op->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!op->done) {
      op->abandoned = true;
      op->many = {};
      co_return ec == asio::error::operation_aborted ? error_code(asio::error::operation_aborted)
                                                     : error_code(errc::timeout);
    }
  }
  co_return op->ec;
}

}  // namespace

client::client(asio::any_io_executor ex, client_options opts)
    : conn_(std::make_shared<detail::connection>(std::move(ex), std::move(opts), "client")) {}

client::~client() {
  conn_->stop();
}

void client::start() {
  conn_->start();
}
void client::stop() {
  conn_->stop();
}
bool client::connected() const noexcept {
  return conn_->ready();
}

asio::awaitable<error_code> client::async_wait_connected(std::chrono::milliseconds timeout) {
  auto conn = conn_;
  co_return co_await conn->async_wait_connected(timeout);
}

asio::awaitable<boost::system::result<reply>> client::async_exec(command_args args) {
  // Formatted before the first suspension, while the caller's strings are alive.
  co_return co_await async_exec(args.span());
}

asio::awaitable<boost::system::result<reply>> client::async_exec(
    std::span<const std::string_view> args) {
  auto conn = conn_;  // the connection outlives this call even if the client does not
  if (args.empty() || is_mode_command(args[0])) co_return make_error_code(errc::bad_command);
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
  auto op = submit(
      *conn, 1, buf.size(), [&](std::size_t) { return std::string_view(buf); }, false);
  if (!op) co_return op.error();
  if (auto ec = co_await await_op(*op, conn->options().command_timeout)) co_return ec;
  co_return std::move((*op)->single);
}

asio::awaitable<boost::system::result<std::vector<reply>>> client::async_exec(const pipeline& p) {
  auto conn = conn_;
  if (!p.valid()) co_return make_error_code(errc::bad_command);
  if (p.size() == 0) co_return std::vector<reply>{};
  auto op = submit(
      *conn, p.size(), p.buffer().size(), [&](std::size_t i) { return p.command(i); }, true);
  if (!op) co_return op.error();
  if (auto ec = co_await await_op(*op, conn->options().command_timeout)) co_return ec;
  co_return std::move((*op)->many);
}

}  // namespace stopgate::redis
