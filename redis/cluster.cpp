// The cluster router (cluster.hpp): slot map, node connections, single commands with their
// redirects and retries. Pipelines: cluster_pipeline.cpp.
#include "redis/cluster.hpp"

#include "redis/backoff.hpp"
#include "redis/cluster_replies.hpp"
#include "redis/exec.hpp"
#include "redis/resp.hpp"
#include "redis/slot.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>

namespace stopgate::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;

namespace {

// A refresh asked for this soon after the last one uses the map as it is (a burst of MOVED
// replies during a resharding loads the map once, not once per reply).
constexpr std::chrono::milliseconds refresh_min_interval{100};

constexpr std::string_view asking_command = "*1\r\n$6\r\nASKING\r\n";

}  // namespace

bool final_error(const error_code& ec) noexcept {
  return ec == errc::timeout || ec == errc::overloaded || ec == errc::protocol ||
         ec == errc::bad_command || ec == asio::error::operation_aborted;
}

const reply* needs_resend(std::span<const reply> replies) noexcept {
  for (const reply& r : replies) {
    if (!r.is_error()) continue;
    if (r.str.starts_with("MOVED ") || r.str.starts_with("ASK ") || is_tryagain(r) ||
        is_clusterdown(r))
      return &r;
  }
  return nullptr;
}

struct cluster::waiter {
  explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  error_code result;
  bool done = false;
};

cluster::cluster(asio::any_io_executor ex, client_options opts)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      slots_(slot_count, 0),
      refresh_timer_(ex_),
      rng_(std::random_device{}()) {}

cluster::~cluster() {
  stop();
}

void cluster::start() {
  if (running_) return;
  running_ = true;
  for (const host_port& seed : opts_.ep.nodes) get_node(seed.host, seed.port);
  request_refresh();
}

void cluster::stop() {
  if (!running_) return;
  running_ = false;
  map_loaded_ = false;
  refresh_timer_.cancel();
  for (auto& [name, n] : nodes_) stop_node(*n);
  nodes_.clear();
  if (tracking_) tracking_lost("stopped");
  owners_.clear();
  std::fill(slots_.begin(), slots_.end(), std::uint16_t{0});
  for (auto* list : {&refresh_waiters_, &ready_waiters_}) {
    for (auto& w : *list) {
      w->done = true;
      w->result = errc::stopped;
      w->timer.cancel();
    }
    list->clear();
  }
}

bool cluster::ready() const noexcept {
  if (!running_ || !map_loaded_ || owners_.empty()) return false;
  return std::all_of(owners_.begin(), owners_.end(),
                     [](const auto& n) { return n->conn->ready(); });
}

void cluster::check_ready() {
  if (!ready()) return;
  for (auto& w : ready_waiters_) {
    w->done = true;
    w->timer.cancel();  // completes on the executor, never inline
  }
  ready_waiters_.clear();
}

asio::awaitable<error_code> cluster::async_wait_connected(std::chrono::milliseconds timeout) {
  if (ready()) co_return error_code{};
  if (!running_) co_return errc::stopped;
  auto self = shared_from_this();
  auto w = std::make_shared<waiter>(ex_);
  w->timer.expires_after(timeout);
  ready_waiters_.push_back(w);
  auto [ec] = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (w->done) co_return w->result;
  std::erase(ready_waiters_, w);
  co_return ec == asio::error::operation_aborted ? error_code(asio::error::operation_aborted)
                                                 : error_code(errc::timeout);
}

std::shared_ptr<cluster::node> cluster::get_node(const std::string& host, int port) {
  std::string name = host + ":" + std::to_string(port);
  if (auto it = nodes_.find(name); it != nodes_.end()) return it->second;
  auto n = std::make_shared<node>();
  n->host = host;
  n->port = port;
  client_options o = opts_;
  o.ep = endpoint{};
  o.ep.type = endpoint::kind::tcp;
  o.ep.host = host;
  o.ep.port = port;
  o.ep.username = opts_.ep.username;
  o.ep.password = opts_.ep.password;
  o.on_retry = nullptr;
  n->conn = std::make_shared<connection>(ex_, std::move(o), "cluster node");
  std::weak_ptr<cluster> weak = weak_from_this();
  std::weak_ptr<node> wn = n;
  n->conn->on_ready = [weak, wn, ex = ex_] {
    auto c = weak.lock();
    if (!c) return;
    c->check_ready();
    // A new command connection tracks nothing yet: switch it on (posted: not inside hiredis).
    if (c->tracking_)
      asio::post(ex, [weak, wn] {
        auto cc = weak.lock();
        auto nn = wn.lock();
        if (cc && nn && cc->running_) asio::co_spawn(cc->ex_, cc->sync_tracking(nn), asio::detached);
      });
  };
  // A primary that went away may have been replaced by its replica: learn the new map.
  // Posted: the refresh sends commands, which must not start inside a hiredis callback.
  n->conn->on_down = [weak, ex = ex_] {
    if (auto c = weak.lock()) c->tracking_lost("a command connection was lost");
    asio::post(ex, [weak] {
      if (auto c = weak.lock()) c->request_refresh();
    });
  };
  if (running_) n->conn->start();
  nodes_.emplace(std::move(name), n);
  start_tracker(n);
  return n;
}

std::shared_ptr<cluster::node> cluster::node_for(int slot) {
  if (owners_.empty()) return nullptr;
  if (slot >= 0) {
    const std::uint16_t owner = slots_[std::size_t(slot)];
    return owner == 0 ? nullptr : owners_[owner - 1u];
  }
  // Keyless: the next primary whose connection is up, else the next one.
  for (std::size_t i = 0; i < owners_.size(); ++i) {
    auto& n = owners_[(next_any_ + i) % owners_.size()];
    if (n->conn->ready()) {
      next_any_ = (next_any_ + i + 1) % owners_.size();
      return n;
    }
  }
  return owners_[next_any_++ % owners_.size()];
}

void cluster::set_slot(std::uint16_t slot, const std::shared_ptr<node>& n) {
  auto it = std::find(owners_.begin(), owners_.end(), n);
  if (it == owners_.end()) {
    owners_.push_back(n);
    it = owners_.end() - 1;
  }
  const auto index = static_cast<std::uint16_t>(it - owners_.begin() + 1);
  if (slots_[slot] == index) return;
  slots_[slot] = index;
  tracking_lost("a slot moved");
}


void cluster::apply_map(const std::vector<slot_range>& ranges) {
  std::vector<std::shared_ptr<node>> owners;
  std::vector<std::uint16_t> slots(slot_count, 0);
  for (const slot_range& r : ranges) {
    auto n = get_node(r.host, r.port);
    auto it = std::find(owners.begin(), owners.end(), n);
    if (it == owners.end()) {
      owners.push_back(n);
      it = owners.end() - 1;
    }
    const auto index = static_cast<std::uint16_t>(it - owners.begin() + 1);
    std::fill(slots.begin() + r.first, slots.begin() + r.last + 1, index);
  }
  bool moved = false;
  for (std::size_t s = 0; s < slot_count && !moved; ++s) {
    const auto* was = slots_[s] == 0 ? nullptr : owners_[slots_[s] - 1u].get();
    const auto* now = slots[s] == 0 ? nullptr : owners[slots[s] - 1u].get();
    moved = was != now;
  }
  owners_ = std::move(owners);
  slots_ = std::move(slots);
  if (moved) tracking_lost("the slot map changed");
  // Nodes that serve no slot any more (replaced primaries, seeds that are replicas): their
  // pending commands complete with errc::stopped and are sent again by the map.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (std::find(owners_.begin(), owners_.end(), it->second) == owners_.end()) {
      stop_node(*it->second);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  map_loaded_ = true;
  ++stats_.map_refreshes;
  check_ready();
}

void cluster::request_refresh() {
  if (!running_) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  refreshing_ = true;
  asio::co_spawn(ex_, refresh_loop(shared_from_this()), asio::detached);
}

asio::awaitable<void> cluster::sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(ex_);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> cluster::pause_refresh(std::chrono::milliseconds d) {
  refresh_timer_.expires_after(d);
  co_await refresh_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

// `self` keeps the router alive while the loop is suspended.
asio::awaitable<void> cluster::refresh_loop(std::shared_ptr<cluster> /*self*/) {
  while (running_) {
    refresh_again_ = false;
    const auto since = std::chrono::steady_clock::now() - last_refresh_;
    if (map_loaded_ && since < refresh_min_interval)
      co_await pause_refresh(
          std::chrono::duration_cast<std::chrono::milliseconds>(refresh_min_interval - since));
    if (!running_) break;
    const bool ok = co_await load_map();
    last_refresh_ = std::chrono::steady_clock::now();
    for (auto& w : refresh_waiters_) {
      w->done = true;
      w->timer.cancel();
    }
    refresh_waiters_.clear();
    if (!running_) break;
    if (ok) {
      refresh_failures_ = 0;
      if (!refresh_again_) break;
      continue;
    }
    // Never loaded (a cluster that is not up yet): keep trying, like a reconnect. With a
    // map already, commands that fail ask again.
    if (map_loaded_ && !refresh_again_) break;
    const auto delay =
        backoff_delay(refresh_failures_++, opts_.reconnect_min, opts_.reconnect_max, rng_());
    if (refresh_failures_ == 1)
      spdlog::warn("redis cluster: cannot load the slot map from {}; retrying",
                   opts_.ep.to_string());
    co_await pause_refresh(delay);
  }
  refreshing_ = false;
}

asio::awaitable<bool> cluster::load_map() {
  // Ask the nodes whose connections are up first, then every other known node, then the
  // seeds (all nodes may have changed since start).
  std::vector<std::shared_ptr<node>> candidates;
  for (auto& [name, n] : nodes_)
    if (n->conn->ready()) candidates.push_back(n);
  std::shuffle(candidates.begin(), candidates.end(), rng_);
  for (auto& [name, n] : nodes_)
    if (!n->conn->ready()) candidates.push_back(n);
  for (const host_port& seed : opts_.ep.nodes) {
    auto n = get_node(seed.host, seed.port);
    if (std::find(candidates.begin(), candidates.end(), n) == candidates.end())
      candidates.push_back(n);
  }
  for (auto& n : candidates) {
    if (!running_) co_return false;
    if (!n->conn->ready()) {
      if (co_await n->conn->async_wait_attempt(opts_.connect_timeout)) continue;
    }
    const std::array<std::string_view, 2> shards{"CLUSTER", "SHARDS"};
    std::string cmd;
    append_command(cmd, shards);
    const std::array<std::string_view, 1> one{cmd};
    auto r = co_await send(n->conn, one);
    if (!r) continue;
    auto map = parse_cluster_shards(r->front(), n->host);
    if (!map) {
      // Before Redis 7: CLUSTER SLOTS.
      const std::array<std::string_view, 2> slots{"CLUSTER", "SLOTS"};
      cmd.clear();
      append_command(cmd, slots);
      auto s = co_await send(n->conn, one);
      if (!s) continue;
      map = parse_cluster_slots(s->front(), n->host);
    }
    if (!map || map->empty()) continue;
    if (!running_) co_return false;
    apply_map(*map);
    co_return true;
  }
  co_return false;
}

asio::awaitable<void> cluster::refresh_now() {
  if (!running_) co_return;
  if (!refreshing_ && map_loaded_ &&
      std::chrono::steady_clock::now() - last_refresh_ < refresh_min_interval)
    co_return;
  auto self = shared_from_this();
  request_refresh();
  auto w = std::make_shared<waiter>(ex_);
  w->timer.expires_after(opts_.connect_timeout + opts_.command_timeout);
  refresh_waiters_.push_back(w);
  co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!w->done) std::erase(refresh_waiters_, w);
}

asio::awaitable<result<std::vector<reply>>> cluster::send(std::shared_ptr<connection> conn,
                                                          std::span<const std::string_view> cmds) {
  std::size_t bytes = 0;
  for (auto c : cmds) bytes += c.size();
  auto op = submit(
      *conn, cmds.size(), bytes, [&](std::size_t i) { return cmds[i]; }, true);
  if (!op) co_return op.error();
  if (auto ec = co_await await_op(*op, opts_.command_timeout)) co_return ec;
  co_return std::move((*op)->many);
}

void cluster::note_retry(retry_reason why) {
  switch (why) {
    case retry_reason::moved:
      ++stats_.moved;
      break;
    case retry_reason::ask:
      ++stats_.ask;
      break;
    case retry_reason::tryagain:
      ++stats_.tryagain;
      break;
    case retry_reason::clusterdown:
      ++stats_.clusterdown;
      break;
    case retry_reason::connection:
      ++stats_.connection_retries;
      break;
  }
  if (opts_.on_retry) opts_.on_retry(why);
}

asio::awaitable<result<std::vector<reply>>> cluster::exec_unit(
    std::span<const std::string_view> cmds, int slot) {
  auto self = shared_from_this();
  unsigned redirects = 0, retries = 0;
  std::shared_ptr<node> target;
  bool asking = false;
  std::vector<std::string_view> wire;
  wire.reserve(cmds.size() + 1);
  while (true) {
    if (!running_) co_return make_error_code(errc::stopped);
    if (!target) target = node_for(slot);
    if (!target) {
      co_await refresh_now();
      target = node_for(slot);
    }
    error_code failed;
    result<std::vector<reply>> r = make_error_code(errc::not_connected);
    if (!target) {
      failed = errc::not_connected;
    } else if (!target->conn->ready()) {
      failed = co_await target->conn->async_wait_attempt(opts_.command_timeout);
    }
    if (!failed) {
      wire.clear();
      // ASKING lets the importing node answer the one command that follows it.
      if (asking) wire.push_back(asking_command);
      wire.insert(wire.end(), cmds.begin(), cmds.end());
      r = co_await send(target->conn, wire);
      if (!r)
        failed = r.error();
      else if (asking)
        r->erase(r->begin());
    }
    if (failed) {
      if (final_error(failed) || (failed == errc::stopped && !running_) ||
          retries >= opts_.max_retries)
        co_return failed;
      ++retries;
      note_retry(retry_reason::connection);
      co_await refresh_now();
      co_await sleep(backoff_delay(retries - 1, opts_.retry_min, opts_.retry_max, rng_()));
      target = nullptr;
      asking = false;
      continue;
    }
    const reply* hit = needs_resend(*r);
    if (hit == nullptr) co_return r;
    if (auto to = parse_redirect(*hit)) {
      if (redirects >= opts_.max_redirects) co_return r;
      ++redirects;
      auto n = get_node(to->host.empty() ? target->host : to->host, to->port);
      if (to->type == redirect::kind::moved) {
        note_retry(retry_reason::moved);
        // The slot moved for good: route it there now, and learn the rest of the map.
        set_slot(to->slot, n);
        request_refresh();
        asking = false;
      } else {
        note_retry(retry_reason::ask);
        // A key read on the importing node is tracked there, not where barriers go.
        tracking_lost("an ASK redirect");
        asking = true;
      }
      target = std::move(n);
      continue;
    }
    if (retries >= opts_.max_retries) co_return r;
    ++retries;
    if (is_tryagain(*hit)) {
      note_retry(retry_reason::tryagain);
    } else {
      note_retry(retry_reason::clusterdown);
      request_refresh();
    }
    co_await sleep(backoff_delay(retries - 1, opts_.retry_min, opts_.retry_max, rng_()));
    target = nullptr;
    asking = false;
  }
}

asio::awaitable<result<reply>> cluster::exec_all(std::string_view cmd) {
  auto self = shared_from_this();
  if (!map_loaded_) co_await refresh_now();
  if (!running_) co_return make_error_code(errc::stopped);
  std::vector<std::shared_ptr<node>> targets = owners_;
  if (targets.empty()) co_return make_error_code(errc::not_connected);
  for (auto& n : targets) {
    if (n->conn->ready()) continue;
    if (auto ec = co_await n->conn->async_wait_attempt(opts_.command_timeout)) co_return ec;
  }
  std::vector<std::shared_ptr<pending_op>> ops;
  for (auto& n : targets) {
    auto op = submit(
        *n->conn, 1, cmd.size(), [&](std::size_t) { return cmd; }, true);
    if (!op) co_return op.error();
    ops.push_back(std::move(*op));
  }
  result<reply> out = make_error_code(errc::not_connected);
  for (auto& op : ops) {
    if (auto ec = co_await await_op(op, opts_.command_timeout)) co_return ec;
    reply& r = op->many.front();
    if (!out || (r.is_error() && !out->is_error())) out = std::move(r);
  }
  co_return out;
}

asio::awaitable<result<reply>> cluster::async_exec(std::span<const std::string_view> args,
                                                   key_index key) {
  // Everything is read from `args` before the first suspension.
  const route rt = route_of(args, key);
  if (rt.type == route::kind::invalid || rt.connection_state)
    co_return make_error_code(errc::bad_command);
  std::string cmd;
  append_command(cmd, args);
  if (rt.type == route::kind::all_primaries) co_return co_await exec_all(cmd);
  const int slot = rt.type == route::kind::keyed ? int(key_slot(args[rt.key])) : any_slot;
  const std::array<std::string_view, 1> one{cmd};
  auto r = co_await exec_unit(one, slot);
  if (!r) co_return r.error();
  co_return std::move(r->front());
}

}  // namespace stopgate::redis::detail
