#include "gateway/worker.hpp"

#include "gateway/net/busy_poll.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::gateway {
void worker::watch_redis() {
  boost::asio::co_spawn(
      io,
      [this]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(io);
        for (;;) {
          // An open connection is not enough: a frozen Redis (SIGSTOP, a stalled host) keeps
          // its socket, and the kernel even accepts new connections for it. Up means it
          // answered a PING within the command timeout.
          bool up = false;
          if (redis && redis->connected()) {
            auto r = co_await redis->async_exec({"PING"});
            up = r && !r->is_error();
          }
          redis_up.store(up);
          // A quiet worker reads the change stream too, so that it sees a data loss (and the
          // rebuild after it) without waiting for a check.
          if (up && contacts && contacts->cache()) {
            co_await contacts->async_poll_changes();
            contacts_data_lost.store(contacts->cache()->data_lost());
            contacts_data_losses.store(contacts->cache()->data_losses());
          }
          t.expires_after(std::chrono::milliseconds(up ? 250 : 100));
          auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
          if (ec) co_return;
        }
      },
      boost::asio::detached);
}

void worker::run() {
  net::spin_window window(busy_poll);
  for (;;) {
    try {
      net::run_busy_polling(io, window);
      break;
    } catch (const std::exception& e) {
      // Handlers catch their own errors; anything reaching here is a bug: log and go on.
      spdlog::error("worker {}: unexpected exception: {}", index, e.what());
    }
  }
}

}  // namespace stopgate::gateway
