#include "gateway/dialer/check_runner.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace stopgate::gateway::dialer {
namespace {

namespace asio = boost::asio;

asio::awaitable<voice_answer> guarded(std::shared_ptr<voice_checker> checker, voice_check q) {
  try {
    co_return co_await checker->async_check(q);
  } catch (const std::exception& e) {
    spdlog::error("dialer: a {} check failed: {}", to_string(q.source), e.what());
  } catch (...) {
    spdlog::error("dialer: a {} check failed", to_string(q.source));
  }
  co_return voice_answer::failed("internal");
}

}  // namespace

void spawn_check(const asio::any_io_executor& ex, std::shared_ptr<voice_checker> checker,
                 voice_check q, std::function<void(const voice_answer&)> done) {
  asio::co_spawn(
      ex,
      [checker = std::move(checker), q = std::move(q),
       done = std::move(done)]() mutable -> asio::awaitable<void> {
        voice_answer a = co_await guarded(std::move(checker), std::move(q));
        done(a);
      },
      asio::detached);
}

asio::awaitable<voice_answer> async_check_within(std::shared_ptr<voice_checker> checker,
                                                 voice_check q, std::chrono::milliseconds timeout) {
  struct shared {
    explicit shared(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<voice_answer> answer;
  };
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<shared>(ex);
  st->timer.expires_after(timeout);
  spawn_check(ex, std::move(checker), std::move(q), [st](const voice_answer& a) {
    st->answer = a;
    st->timer.cancel();
  });
  // Woken by the answer (cancel) or by the deadline.
  co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (st->answer) co_return std::move(*st->answer);
  co_return voice_answer::failed("check_timeout");
}

}  // namespace stopgate::gateway::dialer
