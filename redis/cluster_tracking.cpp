// Server-assisted invalidation on a cluster (client::enable_tracking): the tracking half of
// the cluster router (cluster.hpp).
//
// Per primary, besides its command connection, a tracking connection asks CLIENT ID and
// SUBSCRIBEs to __redis__:invalidate; once both are answered, the command connection is
// switched to CLIENT TRACKING ON REDIRECT <that id>. From then on the node remembers every
// key the command connection reads and, when any client changes one, publishes its name on
// the tracking connection (once; reading it again re-arms it). A node that is flushed
// publishes a null: everything goes.
//
// The barrier. Redis queues an invalidation on the tracking connection while it executes the
// write, before it answers anything it reads later on that connection. So a SUBSCRIBE sent
// again on the tracking connection (the only kind of command a RESP2 subscriber may send that
// hiredis hands back to us) is confirmed only after every invalidation of every write the
// node applied before it: once confirmed, a cached key that got none was not changed on that
// node before the barrier. Barriers are shared: a fetch round waits for the first one sent
// after it began, so a busy node answers about one per round trip. Alongside, ROLE on the
// command connection: a primary demoted while it stayed up no longer sees the writes.
//
// What a barrier does not tell: that the node still owns the slot. A slot moves away only
// once its keys have (Redis refuses SETSLOT NODE while the old owner holds keys of it), so a
// cache that keeps one tracked key in every slot it caches (the contact store's slot marker,
// docs/dev/CONTACTS.md) hears of every move through that key's invalidation.
//
// Whatever could let an invalidation slip (a tracking or command connection lost or replaced,
// a slot map change, a MOVED, a flush) grows tracking_epoch() and calls on_reset: a cache
// drops everything, and a request that saw the epoch change uses nothing it cached.
#include "redis/cluster.hpp"

#include "redis/client.hpp"

#include "redis/exec.hpp"
#include "redis/resp.hpp"
#include "redis/slot.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>

namespace stopgate::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::string_view invalidate_channel = "__redis__:invalidate";

std::string_view view(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

// One barrier: the confirmation of a SUBSCRIBE sent on a tracking connection.
struct barrier_wait {
  explicit barrier_wait(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool done = false, ok = false;
  void finish(bool good) {
    if (done) return;
    done = true;
    ok = good;
    timer.cancel();
  }
};

// A fetch round's wait for a barrier of one node sent after the round began (barriers are
// shared: rounds that begin while one is out wait for the next, so a busy node sees about
// one barrier per round trip, not one per round).
struct round_wait {
  explicit round_wait(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::uint64_t need = 0;  // the first barrier sequence number that serves this round
  bool done = false;
  bool ok = false;  // that barrier held
  void finish(bool good) {
    if (done) return;
    done = true;
    ok = good;
    timer.cancel();
  }
};

// True when a ROLE reply says the node is a primary.
bool is_primary(const reply& r) {
  return r.kind == reply::type::array && !r.elements.empty() && r.elements[0].str == "master";
}

}  // namespace

struct cluster::tracker {
  std::weak_ptr<cluster> owner;
  connection* conn = nullptr;  // the node's tracking connection (it owns this state)
  long long id = 0;            // its CLIENT ID on the current generation
  bool subscribed = false;     // __redis__:invalidate confirmed on the current generation
  std::deque<std::shared_ptr<barrier_wait>> barriers;  // confirmations owed, oldest first
  std::uint64_t sent = 0;                               // barriers sent so far
  bool in_flight = false;                               // run_barriers is running
  std::vector<std::shared_ptr<round_wait>> rounds;      // waiting for a barrier
  bool on = false;  // the command connection redirects its invalidations here
  std::uint64_t on_data_gen = 0, on_sub_gen = 0;
  bool enabling = false;
  bool closed = false;
  bool given_up = false;        // refused tracking (ACL?): this node is read without a cache
  unsigned failed_attempts = 0;  // tracking connections lost before their SUBSCRIBE was confirmed
  std::string myid;              // CLUSTER MYID as the tracking connection saw it
  std::string buf;
  std::function<void()> on_subscribed;

  // Only when the tracking connection is gone: a confirmation still to come would otherwise
  // be taken for a newer barrier's.
  void fail_barriers() {
    auto b = std::move(barriers);
    barriers.clear();
    for (auto& w : b) w->finish(false);
    fail_rounds();
  }
  // The waiting rounds use nothing from the cache (the epoch changed, or the node went).
  void fail_rounds() {
    auto r = std::move(rounds);
    rounds.clear();
    for (auto& w : r) w->finish(false);
  }

  bool send_subscribe(void* cb_priv) {
    redisAsyncContext* ac = conn->context();
    if (ac == nullptr) return false;
    const std::array<std::string_view, 2> args{"SUBSCRIBE", invalidate_channel};
    buf.clear();
    append_command(buf, args);
    return redisAsyncFormattedCommand(ac, &tracker::on_push, cb_priv, buf.data(), buf.size()) ==
           REDIS_OK;
  }

  static void on_id(redisAsyncContext*, void* r, void* priv) {
    auto* t = static_cast<tracker*>(priv);
    const auto* rep = static_cast<const redisReply*>(r);
    if (rep == nullptr || t->closed) return;
    if (rep->type == REDIS_REPLY_INTEGER) t->id = rep->integer;
  }

  static void on_myid(redisAsyncContext*, void* r, void* priv) {
    auto* t = static_cast<tracker*>(priv);
    const auto* rep = static_cast<const redisReply*>(r);
    if (rep == nullptr || t->closed) return;
    if (rep->type == REDIS_REPLY_STRING) t->myid.assign(rep->str, rep->len);
  }

  static void on_push(redisAsyncContext*, void* r, void* priv) {
    auto* t = static_cast<tracker*>(priv);
    const auto* rep = static_cast<const redisReply*>(r);
    if (rep == nullptr || t->closed || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
    const std::string_view kind = view(rep->element[0]);
    if (kind == "subscribe") {
      if (!t->subscribed) {
        t->subscribed = true;
        t->failed_attempts = 0;
        if (t->on_subscribed) t->on_subscribed();
      } else if (!t->barriers.empty()) {
        auto w = std::move(t->barriers.front());
        t->barriers.pop_front();
        w->finish(true);
      }
      return;
    }
    if (kind != "message") return;
    auto c = t->owner.lock();
    if (!c) return;
    const redisReply* payload = rep->element[2];
    if (payload->type == REDIS_REPLY_NIL) {
      // FLUSHALL / FLUSHDB, or a replica loading a new data set: everything goes.
      c->tracking_lost("a node was flushed");
      return;
    }
    std::vector<std::string_view> keys;
    if (payload->type == REDIS_REPLY_ARRAY) {
      keys.reserve(payload->elements);
      for (std::size_t i = 0; i < payload->elements; ++i) keys.push_back(view(payload->element[i]));
    } else {
      keys.push_back(view(payload));
    }
    if (c->on_invalidate_) c->on_invalidate_(keys);
  }
};

void cluster::enable_tracking(std::function<void(std::span<const std::string_view>)> on_keys,
                              std::function<void()> on_reset) {
  on_invalidate_ = std::move(on_keys);
  on_tracking_reset_ = std::move(on_reset);
  if (tracking_) return;
  tracking_ = true;
  for (auto& [name, n] : nodes_) start_tracker(n);
  asio::co_spawn(ex_, refresh_while_tracking(shared_from_this()), asio::detached);
}

// Redis 7.0 can give a slot away without an invalidation (an owner that learns over the bus
// that another node took the slot deletes the keys it still held silently; DELSLOTS and
// ADDSLOTS move no keys): the slot map is compared every second, and a change drops the cache.
asio::awaitable<void> cluster::refresh_while_tracking(std::shared_ptr<cluster> /*self*/) {
  asio::steady_timer t(ex_);
  while (running_ && tracking_) {
    t.expires_after(redis::tracking_map_check);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!running_) break;
    request_refresh();
  }
}

void cluster::start_tracker(const std::shared_ptr<node>& n) {
  if (!tracking_ || n->trk) return;
  client_options o = n->conn->options();
  n->tconn = std::make_shared<connection>(ex_, std::move(o), "cluster tracking");
  auto t = std::make_shared<tracker>();
  t->owner = weak_from_this();
  t->conn = n->tconn.get();
  n->trk = t;
  std::weak_ptr<node> wn = n;
  std::weak_ptr<cluster> weak = weak_from_this();
  // Posted: enabling tracking sends a command, which must not start inside hiredis.
  t->on_subscribed = [weak, wn, ex = ex_] {
    asio::post(ex, [weak, wn] {
      auto c = weak.lock();
      auto nn = wn.lock();
      if (c && nn && c->running_)
        asio::co_spawn(c->ex_, c->sync_tracking(nn), asio::detached);
    });
  };
  n->tconn->on_ready = [t] {
    t->subscribed = false;
    t->id = 0;
    redisAsyncContext* ac = t->conn->context();
    const std::array<std::string_view, 2> id{"CLIENT", "ID"};
    t->buf.clear();
    append_command(t->buf, id);
    redisAsyncFormattedCommand(ac, &tracker::on_id, t.get(), t->buf.data(), t->buf.size());
    t->myid.clear();
    const std::array<std::string_view, 2> myid{"CLUSTER", "MYID"};
    t->buf.clear();
    append_command(t->buf, myid);
    redisAsyncFormattedCommand(ac, &tracker::on_myid, t.get(), t->buf.data(), t->buf.size());
    t->send_subscribe(t.get());
  };
  n->tconn->on_down = [t, weak, ex = ex_, host = n->host, port = n->port] {
    const bool was_on = t->on;
    if (!t->subscribed && ++t->failed_attempts >= 3 && !t->given_up) {
      // Closed before its SUBSCRIBE was confirmed, again and again: most likely an ACL
      // without access to the channel (hiredis drops a subscriber on an error reply).
      t->given_up = true;
      spdlog::warn("redis cluster: {}:{} closes the tracking connection before SUBSCRIBE "
                   "__redis__:invalidate is confirmed (ACL channel permissions?); its slots are "
                   "read without a local cache (docs/REDIS.md)",
                   host, port);
      asio::post(ex, [t] {
        if (!t->closed) t->conn->stop();
      });
    }
    t->subscribed = false;
    t->on = false;
    t->fail_barriers();
    // Nothing was cached through it unless tracking was on.
    if (was_on)
      if (auto c = weak.lock()) c->tracking_lost("a tracking connection was lost");
  };
  if (running_) n->tconn->start();
}

void cluster::stop_node(node& n) {
  n.conn->stop();
  if (n.trk) {
    n.trk->closed = true;
    n.trk->fail_barriers();
  }
  if (n.tconn) n.tconn->stop();
}

void cluster::tracking_lost(std::string_view why) {
  if (!tracking_) return;
  ++tracking_epoch_;
  spdlog::debug("redis cluster: cached reads dropped: {}", why);
  for (auto& [name, n] : nodes_)
    if (n->trk) n->trk->fail_rounds();
  if (on_tracking_reset_) on_tracking_reset_();
}

bool cluster::node_tracked(const node& n) const noexcept {
  const tracker* t = n.trk.get();
  return t != nullptr && t->on && t->subscribed && n.conn->ready() && n.tconn->ready() &&
         n.conn->generation() == t->on_data_gen && n.tconn->generation() == t->on_sub_gen;
}

bool cluster::tracked(int slot) const noexcept {
  if (!tracking_ || !running_ || slot < 0 || slot >= int(slot_count)) return false;
  const std::uint16_t owner = slots_[std::size_t(slot)];
  return owner != 0 && node_tracked(*owners_[owner - 1u]);
}

asio::awaitable<void> cluster::sync_tracking(std::shared_ptr<node> n) {
  auto self = shared_from_this();
  for (int attempt = 0; attempt < 3; ++attempt) {
    tracker* t = n->trk.get();
    if (!running_ || t == nullptr || t->enabling || t->given_up || node_tracked(*n)) co_return;
    if (!n->conn->ready() || !n->tconn->ready() || !t->subscribed || t->id == 0) co_return;
    t->enabling = true;
    const std::uint64_t dgen = n->conn->generation(), sgen = n->tconn->generation();
    std::string myid, off, on;
    append_command(myid, std::array<std::string_view, 2>{"CLUSTER", "MYID"});
    append_command(off, std::array<std::string_view, 3>{"CLIENT", "TRACKING", "OFF"});
    const std::string id = std::to_string(t->id);
    append_command(on,
                   std::array<std::string_view, 5>{"CLIENT", "TRACKING", "ON", "REDIRECT", id});
    const std::array<std::string_view, 3> cmds{myid, off, on};
    auto r = co_await send(n->conn, cmds);
    t->enabling = false;
    const bool ok = r && r->size() == 3 && !(*r)[1].is_error() && !(*r)[2].is_error();
    // Both connections must reach the same server: a redirect id exists on any server.
    const bool same = r && r->size() == 3 && !t->myid.empty() && (*r)[0].str == t->myid;
    if (ok && same && n->conn->generation() == dgen && n->tconn->generation() == sgen &&
        t->subscribed) {
      t->on = true;
      t->on_data_gen = dgen;
      t->on_sub_gen = sgen;
      co_return;
    }
    if (r && !ok) {
      t->given_up = true;
      spdlog::warn("redis cluster: {}:{} refused CLIENT TRACKING ({}); its slots are read "
                   "without a local cache (docs/REDIS.md)",
                   n->host, n->port, (*r)[(*r)[1].is_error() ? 1 : 2].str);
      co_return;
    }
    if (r && !same && n->conn->generation() == dgen && n->tconn->generation() == sgen) {
      // Different servers behind one address, or a restart between the two connections:
      // the tracking connection connects again and asks anew.
      n->tconn->reconnect("the tracking connection reached another server");
      co_return;
    }
  }
}

asio::awaitable<void> cluster::run_barriers(std::shared_ptr<node> n) {
  auto self = shared_from_this();
  std::string role_cmd;
  append_command(role_cmd, std::array<std::string_view, 1>{"ROLE"});
  tracker& t = *n->trk;  // n keeps it alive
  while (running_ && !t.closed && !t.rounds.empty()) {
    const std::uint64_t seq = ++t.sent;
    bool held = false;
    if (node_tracked(*n)) {
      const std::uint64_t dgen = n->conn->generation(), sgen = n->tconn->generation();
      auto bw = std::make_shared<barrier_wait>(ex_);
      std::shared_ptr<pending_op> op;
      if (t.send_subscribe(&t)) {
        t.barriers.push_back(bw);
        auto o = submit(
            *n->conn, 1, role_cmd.size(), [&](std::size_t) { return std::string_view(role_cmd); },
            false);
        if (o) op = std::move(*o);
      }
      if (op) {
        const auto deadline = std::chrono::steady_clock::now() + opts_.command_timeout;
        if (!bw->done) {
          bw->timer.expires_at(deadline);
          co_await bw->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        const bool replied = !co_await await_op(op, std::max(left, std::chrono::milliseconds(1)));
        held = replied && bw->done && bw->ok && node_tracked(*n) &&
               n->conn->generation() == dgen && n->tconn->generation() == sgen;
        if (held && op->single.is_error()) {
          // ROLE refused (an ACL without it): the node is read without a cache.
          held = false;
          t.given_up = true;
          t.on = false;
          spdlog::warn("redis cluster: {}:{} refused ROLE ({}); its slots are read without a "
                       "local cache (docs/REDIS.md)",
                       n->host, n->port, op->single.str);
        } else if (held && !is_primary(op->single)) {
          // Demoted (a failover while it stayed up): what it tracked no longer sees the writes.
          held = false;
          tracking_lost("a node is no longer a primary");
          request_refresh();
        }
      }
    }
    // Every round that began before this barrier was sent is served by it.
    auto waiting = std::move(t.rounds);
    t.rounds.clear();
    for (auto& w : waiting) {
      if (w->need <= seq)
        w->finish(held);
      else
        t.rounds.push_back(std::move(w));
    }
  }
  t.in_flight = false;
}

asio::awaitable<std::vector<std::uint8_t>> cluster::async_tracking_barrier(
    std::span<const std::uint16_t> slots_in) {
  const std::vector<std::uint16_t> slots(slots_in.begin(), slots_in.end());  // read after suspending
  std::vector<std::uint8_t> out(slots.size(), 0);
  if (!tracking_ || !running_ || !map_loaded_ || slots.empty()) co_return out;
  auto self = shared_from_this();
  const std::uint64_t epoch = tracking_epoch_;
  struct group {
    std::shared_ptr<node> n;
    std::vector<std::size_t> at;
    std::shared_ptr<round_wait> wait;
  };
  std::vector<group> groups;
  std::vector<std::uint8_t> group_of(owners_.size() + 1, 0);  // owner index -> group + 1
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint16_t owner = slots_[slots[i] % slot_count];
    if (owner == 0) continue;
    if (group_of[owner] == 0) {
      if (!node_tracked(*owners_[owner - 1u])) continue;
      groups.push_back({owners_[owner - 1u], {}, nullptr});
      group_of[owner] = std::uint8_t(groups.size());
    }
    groups[group_of[owner] - 1u].at.push_back(i);
  }
  for (group& g : groups) {
    tracker& t = *g.n->trk;
    g.wait = std::make_shared<round_wait>(ex_);
    g.wait->need = t.sent + 1;  // a barrier sent after this round began
    t.rounds.push_back(g.wait);
    if (!t.in_flight) {
      t.in_flight = true;
      asio::co_spawn(ex_, run_barriers(g.n), asio::detached);
    }
  }
  // One deadline for all nodes: a stalled node costs the round one command timeout.
  const auto deadline = std::chrono::steady_clock::now() + opts_.command_timeout;
  for (group& g : groups) {
    if (!g.wait->done) {
      g.wait->timer.expires_at(deadline);
      co_await g.wait->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!g.wait->done && g.n->trk) std::erase(g.n->trk->rounds, g.wait);
  }
  if (!running_ || tracking_epoch_ != epoch) co_return out;
  for (group& g : groups) {
    if (!g.wait->done || !g.wait->ok || !node_tracked(*g.n)) continue;
    for (std::size_t i : g.at) {
      const std::uint16_t owner = slots_[slots[i] % slot_count];
      if (owner != 0 && owners_[owner - 1u] == g.n) out[i] = 1;
    }
  }
  co_return out;
}

}  // namespace stopgate::redis::detail
