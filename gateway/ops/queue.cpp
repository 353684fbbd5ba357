// `campaign` and `queue_stats`: the durable outbound queue as its users see it (docs/QUEUE.md).
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "gateway/queue/campaigns.hpp"
#include "gateway/queue/store.hpp"
#include "gateway/send/events.hpp"
#include "gateway/send/send_op.hpp"
#include "gateway/worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now_us().time_since_epoch()).count();
}

op_result queue_down(const error_code& ec) {
  return fail(api_errc::store_unavailable, "the queue did not answer: " + ec.message());
}

}  // namespace

asio::awaitable<op_result> ops::campaign(const json::object& req, const api::request_context& ctx) {
  auto rt = svc_.runtime();
  fields f(req);
  std::string sender;
  op_support::resolve_sender(*rt->settings, f, false, sender);
  auto* name = f.str("campaign", true);
  if (name && !dnc::contacts::contact_keys::valid_name(*name))
    f.set("campaign: 1-64 bytes without spaces or control characters");
  const int action = f.choice("action", {"status", "pause", "resume", "cancel"});
  if (!f.ok()) co_return f.failure();
  const auto* q = send_->queue();
  worker& w = svc_.on(ctx.worker);
  if (!q || !w.redis) co_return fail(api_errc::store_unavailable, "the queue is not available");
  const std::string campaign(*name);
  queue::campaign_store campaigns;
  auto before = co_await campaigns.async_state(*w.redis, sender, campaign);
  if (!before) co_return queue_down(before.error());
  queue::campaign_state after = *before;
  if (action == 1) after = queue::campaign_state::paused;
  if (action == 2) after = queue::campaign_state::active;
  if (action == 3) after = queue::campaign_state::cancelled;
  if (after != *before) {
    if (auto ec = co_await campaigns.async_set_state(*w.redis, sender, campaign, after))
      co_return queue_down(ec);
    spdlog::info("campaign {} of {}: {} -> {} (key {})", campaign, sender, to_string(*before),
                 to_string(after), ctx.key_name.empty() ? "-" : std::string(ctx.key_name));
  }
  auto counts = co_await campaigns.async_counts(*w.redis, sender, campaign, now_ms());
  if (!counts) co_return queue_down(counts.error());
  // Resume and cancel make the waiting messages due now: released, or cancelled with evidence.
  if (action == 2 || action == 3) {
    auto moved = co_await q->async_redue(*w.redis, counts->ids, now_ms(), action == 3);
    if (!moved) co_return queue_down(moved.error());
  }
  auto states = co_await q->async_states(*w.redis, counts->ids);
  if (!states) co_return queue_down(states.error());
  std::int64_t in_queue = 0, queued = 0, in_flight = 0;
  std::map<std::string, std::int64_t> held;
  for (const auto& st : *states) {
    if (st.empty()) continue;  // left the queue meanwhile
    ++in_queue;
    const auto bar = st.find('|');
    const auto kind = st.substr(0, bar);
    if (kind == "queued")
      ++queued;
    else if (kind == "held")
      ++held[bar == std::string::npos ? "" : st.substr(bar + 1)];
    else
      ++in_flight;
  }
  json::object h;
  for (auto& [reason, n] : held) h[reason] = n;
  co_return json::object{{"campaign", campaign},
                         {"sender", sender},
                         {"state", to_string(after)},
                         {"changed", after != *before},
                         {"in_queue", in_queue},
                         {"queued", queued},
                         {"held", std::move(h)},
                         {"in_flight", in_flight},
                         {"accepted", counts->queued},
                         {"sent", counts->sent},
                         {"failed", counts->failed},
                         {"unknown", counts->unknown},
                         {"cancelled", counts->cancelled},
                         {"expired", counts->expired},
                         {"sent_last_minute", counts->sent_last_minute}};
}

asio::awaitable<op_result> ops::queue_stats(const api::request_context& ctx) {
  const auto* q = send_->queue();
  worker& w = svc_.on(ctx.worker);
  if (!q || !w.redis) co_return fail(api_errc::store_unavailable, "the queue is not available");
  auto st = co_await q->async_stats(*w.redis);
  if (!st) co_return queue_down(st.error());
  json::object states;
  for (auto& s : st->states) states[s.state] = s.count;
  json::value oldest = nullptr;
  if (st->oldest_due_ms)
    oldest = format_rfc3339(dnc::model::sys_time(std::chrono::milliseconds(st->oldest_due_ms)));
  co_return json::object{{"depth", st->depth},
                         {"states", std::move(states)},
                         {"oldest_due", std::move(oldest)},
                         {"shards", std::int64_t(q->shards(*w.redis).size())}};
}

asio::awaitable<op_result> ops::events(const json::object& req, const api::request_context& ctx) {
  fields f(req);
  std::string after = "0";
  if (auto* a = f.str("after", false)) {
    after = std::string(*a);
    if (!send::valid_cursor(after)) f.set("after: a cursor from an earlier answer (MS-SEQ), or \"0\"");
  }
  const auto max = f.integer("max", 1, 1000, 500);
  const auto wait_ms = f.integer("wait_ms", 0, 30000, 0);
  if (!f.ok()) co_return f.failure();
  worker& w = svc_.on(ctx.worker);
  if (!w.redis) co_return fail(api_errc::store_unavailable, "Redis is not available");
  const std::string key(ctx.key_name);
  // A long poll looks every 50 ms (a blocking XREAD would hold the worker's shared connection).
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    auto got = co_await send::read_events(*w.redis, key, after, std::size_t(max));
    if (!got) co_return queue_down(got.error());
    if (!got->empty() || std::chrono::steady_clock::now() >= until) {
      json::array list;
      std::string next = after;
      for (auto& e : *got) {
        json::object o{{"id", e.id}, {"message_id", e.message_id}, {"status", e.status}, {"at", e.at}};
        if (!e.campaign.empty()) o["campaign"] = e.campaign;
        if (!e.carrier.empty()) o["carrier"] = e.carrier;
        if (!e.error_code.empty()) o["error_code"] = e.error_code;
        next = e.id;
        list.push_back(std::move(o));
      }
      co_return json::object{{"events", std::move(list)}, {"next", next}};
    }
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace stopgate::gateway
