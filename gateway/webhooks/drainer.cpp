// The reply queue's drainer: one loop per worker claims due replies atomically and sends
// each through the carrier its inbound message came in on. At most once per reply: an
// attempt whose outcome is unknown is never repeated (docs/WEBHOOKS.md, "Replies").
#include "gateway/webhooks/service.hpp"

#include "gateway/webhooks/worker_state.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace stopgate::gateway::webhooks {

namespace asio = boost::asio;

void service::wake_local(per_worker& w) {
  w.woken = true;
  if (w.timer) w.timer->cancel();
}

asio::awaitable<void> service::drain_loop(per_worker& w) {
  w.timer = std::make_unique<asio::steady_timer>(*w.io);
  auto last_sweep = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    w.woken = false;
    bool more = false;
    gateway::worker* wk = w.gw;
    if (wk->redis && wk->redis->connected()) {
      // A cluster's slot queues: worker 0 re-lists every non-empty one in the index now and
      // then (a drainer emptying a queue can race with a webhook filling it).
      if (w.index == 0 && wk->redis->is_cluster() &&
          std::chrono::steady_clock::now() - last_sweep >= opts_.sweep_interval) {
        last_sweep = std::chrono::steady_clock::now();
        auto swept = co_await store_.async_sweep(*wk->redis);
        if (swept)
          counters_.set_queue_depth(swept->depth);
        else
          spdlog::warn("reply queue sweep failed: {}", swept.error().message());
      }
      if (w.in_flight < opts_.max_sends_in_flight) {
        const std::size_t room = opts_.max_sends_in_flight - w.in_flight;
        auto items = co_await store_.async_claim_due(*wk->redis, now_ms(), room);
        if (items) {
          more = items->size() == room;
          for (auto& it : *items) {
            ++w.in_flight;
            asio::co_spawn(*w.io, send_one(w, std::move(it)), asio::detached);
          }
        }
      }
      // Worker 0 samples the queue depth for /metrics (on a cluster: at each sweep, as
      // counting 16,384 slot queues is not a per-round job).
      if (w.index == 0 && !wk->redis->is_cluster())
        if (auto d = co_await store_.async_depth(*wk->redis)) counters_.set_queue_depth(*d);
    }
    if (more || w.woken) continue;
    w.timer->expires_after(opts_.poll_interval);
    co_await w.timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> service::send_one(per_worker& w, claimed_reply c) {
  auto& redis = *w.gw->redis;
  auto item = decode_reply(c.payload);
  std::string kind = item ? item->kind : "unknown";
  std::string result;
  bool done = true;
  std::int64_t due = 0;
  if (!item) {
    result = "dropped";
  } else if (c.was_sending) {
    // A drainer took it and never reported: it may have gone out. Never send it twice.
    result = "unknown";
  } else if (now_ms() > item->deadline_ms) {
    result = "expired";
  } else {
    auto s = settings_();
    send_verdict v = send_verdict::unknown;
    try {
      v = co_await send_(*s, *item, *w.gw);
    } catch (const std::exception& e) {
      spdlog::error("reply {}: sender threw: {}", item->id, e.what());
    }
    const std::int64_t now = now_ms();
    switch (v) {
      case send_verdict::sent:
        result = "sent";
        break;
      case send_verdict::failed:
        result = "failed";
        break;
      case send_verdict::unknown:
        result = "unknown";
        break;
      case send_verdict::retry: {
        // Backoff grows with the time already spent, within the 5-minute budget.
        const auto wait = std::clamp<std::int64_t>(now - item->created_ms, opts_.retry_min.count(),
                                                   opts_.retry_max.count());
        due = now + wait;
        if (due >= item->deadline_ms) {
          result = "expired";
        } else {
          done = false;
        }
        break;
      }
    }
  }
  boost::system::error_code ec;
  if (done) {
    ec = co_await store_.async_complete(redis, c.home, c.id);
    counters_.reply(kind, result);  // after the queue update, so /metrics never runs ahead of it
  } else {
    ec = co_await store_.async_retry(redis, c.home, c.id, due);
  }
  if (ec)
    spdlog::warn("reply {}: could not update the queue ({}); it is dropped when its lease ends",
                 c.id, ec.message());
  if (item && (result == "failed" || result == "unknown" || result == "expired"))
    spdlog::warn("{} reply {} to sender {}: {}", kind, c.id, item->sender, result);
  --w.in_flight;
  if (w.timer) w.timer->cancel();  // room for more
}

}  // namespace stopgate::gateway::webhooks
