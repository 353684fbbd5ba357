#include "redis/exec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::redis::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

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

}  // namespace

void on_op_reply(redisAsyncContext* ac, void* r, void* priv) {
  auto* op = static_cast<pending_op*>(priv);
  auto* conn = static_cast<connection*>(ac->data);
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

}  // namespace stopgate::redis::detail
