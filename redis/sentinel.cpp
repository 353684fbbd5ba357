#include "redis/sentinel.hpp"

#include "redis/backoff.hpp"
#include "redis/exec.hpp"
#include "redis/resp.hpp"
#include "redis/subscriber.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <charconv>

namespace stopgate::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::string_view switch_channel = "+switch-master";

// "<master-name> <old-ip> <old-port> <new-ip> <new-port>"
bool parse_switch(std::string_view msg, std::string_view& name, std::string_view& host, int& port) {
  std::array<std::string_view, 5> f;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto sp = msg.find(' ');
    if ((sp == std::string_view::npos) != (i == f.size() - 1)) return false;
    f[i] = msg.substr(0, sp);
    msg = sp == std::string_view::npos ? std::string_view{} : msg.substr(sp + 1);
  }
  auto [p, ec] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), port);
  if (ec != std::errc{} || p != f[4].data() + f[4].size() || port < 1 || port > 65535) return false;
  name = f[0];
  host = f[3];
  return !host.empty();
}

}  // namespace

struct sentinel_watch::sentinel {
  host_port addr;
  std::shared_ptr<connection> query;
  std::unique_ptr<subscriber> sub;
};

sentinel_watch::sentinel_watch(asio::any_io_executor ex, client_options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), pause_(ex_), rng_(std::random_device{}()) {
  for (const host_port& hp : opts_.ep.nodes) {
    auto s = std::make_unique<sentinel>();
    s->addr = hp;
    client_options o = opts_;
    o.ep = endpoint{};
    o.ep.type = endpoint::kind::tcp;
    o.ep.host = hp.host;
    o.ep.port = hp.port;
    o.ep.username = opts_.ep.sentinel_username;
    o.ep.password = opts_.ep.sentinel_password;
    o.on_retry = nullptr;
    s->query = std::make_shared<connection>(ex_, o, "sentinel");
    s->sub = std::make_unique<subscriber>(ex_, o);
    s->sub->subscribe(std::string(switch_channel));
    sentinels_.push_back(std::move(s));
  }
}

sentinel_watch::~sentinel_watch() {
  stop();
}

void sentinel_watch::follow(const std::shared_ptr<connection>& conn, bool require_primary) {
  std::weak_ptr<sentinel_watch> weak = weak_from_this();
  conn->require_primary = require_primary;
  conn->resolve = [weak]() -> std::optional<endpoint> {
    auto w = weak.lock();
    if (!w) return std::nullopt;
    if (!w->primary_) {
      w->rediscover();
      return std::nullopt;
    }
    return *w->primary_;
  };
  // Both run inside hiredis callbacks: the discovery they start is posted.
  conn->on_replica = [weak] {
    if (auto w = weak.lock()) {
      ++w->stats_.replica_refusals;
      w->rediscover();
    }
  };
  conn->on_down = [weak] {
    if (auto w = weak.lock()) w->rediscover();
  };
  // The function lives in the connection, so the connection is alive whenever it runs.
  conn->on_readonly = [weak, c = conn.get()] {
    if (auto w = weak.lock()) w->note_readonly(*c);
  };
  followers_.push_back(conn);
}

void sentinel_watch::start() {
  if (running_) return;
  running_ = true;
  std::weak_ptr<sentinel_watch> weak = weak_from_this();
  for (auto& s : sentinels_) {
    s->query->start();
    s->sub->on_message([weak](std::string_view channel, std::string_view message) {
      auto w = weak.lock();
      std::string_view name, host;
      int port = 0;
      if (!w || channel != switch_channel || !parse_switch(message, name, host, port) ||
          name != w->opts_.ep.master_name)
        return;
      ++w->stats_.switch_messages;
      // Posted: moving the followers must not run inside this subscriber's hiredis callback.
      asio::post(w->ex_, [weak, h = std::string(host), port] {
        if (auto ww = weak.lock(); ww && ww->running_) ww->set_primary(h, port, true);
      });
    });
    // A (re)subscribed Sentinel may have announced a switch while we were not listening.
    s->sub->on_subscribed([weak] {
      if (auto w = weak.lock()) w->rediscover();
    });
    s->sub->start();
  }
  rediscover();
}

void sentinel_watch::stop() {
  if (!running_) return;
  running_ = false;
  pause_.cancel();
  for (auto& s : sentinels_) {
    s->query->stop();
    s->sub->stop();
  }
}

void sentinel_watch::note_readonly(connection& conn) {
  ++stats_.readonly_replies;
  // The node became a replica under us: never write to it again, find the primary.
  conn.reconnect("the node answered READONLY (it is a replica now)");
  rediscover();
}

void sentinel_watch::rediscover() {
  if (!running_) return;
  if (discovering_) {
    discover_again_ = true;
    return;
  }
  discovering_ = true;
  // Posted: callers may be inside hiredis callbacks.
  asio::post(ex_, [self = shared_from_this()] {
    asio::co_spawn(self->ex_, self->discover_loop(self), asio::detached);
  });
}

void sentinel_watch::set_primary(std::string_view host, int port, bool announced) {
  const bool changed = !primary_ || primary_->host != host || primary_->port != port;
  if (changed) {
    endpoint ep;
    ep.type = endpoint::kind::tcp;
    ep.host = std::string(host);
    ep.port = port;
    ep.username = opts_.ep.username;
    ep.password = opts_.ep.password;
    ep.db = opts_.ep.db;
    spdlog::info("redis sentinel: primary of {} is {}:{}{}", opts_.ep.master_name, host, port,
                 announced ? " (+switch-master)" : "");
    primary_ = std::move(ep);
    ++stats_.primary_changes;
  }
  for (auto it = followers_.begin(); it != followers_.end();) {
    auto conn = it->lock();
    if (!conn) {
      it = followers_.erase(it);
      continue;
    }
    ++it;
    const bool elsewhere =
        conn->current_endpoint().host != host || conn->current_endpoint().port != port;
    // Connected (or connecting) to the old primary: move. Waiting for an address: go now.
    const bool unresolved = conn->current() == connection::state::backing_off &&
                            conn->current_endpoint().type != endpoint::kind::tcp;
    if ((changed && elsewhere) || unresolved) conn->reconnect("the primary moved");
  }
}

asio::awaitable<bool> sentinel_watch::ask(sentinel& s) {
  auto conn = s.query;
  if (!conn->ready()) {
    if (co_await conn->async_wait_attempt(opts_.connect_timeout)) co_return false;
  }
  std::string cmd;
  const std::array<std::string_view, 3> args{"SENTINEL", "get-master-addr-by-name",
                                             opts_.ep.master_name};
  append_command(cmd, args);
  auto op = submit(
      *conn, 1, cmd.size(), [&](std::size_t) { return std::string_view(cmd); }, false);
  if (!op) co_return false;
  if (co_await await_op(*op, opts_.command_timeout)) co_return false;
  const reply& r = (*op)->single;
  // nil: this Sentinel does not monitor that name.
  if (r.kind != reply::type::array || r.elements.size() != 2 ||
      r.elements[0].kind != reply::type::string || r.elements[1].kind != reply::type::string)
    co_return false;
  int port = 0;
  const std::string& p = r.elements[1].str;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc{} || end != p.data() + p.size() || port < 1 || port > 65535 ||
      r.elements[0].str.empty())
    co_return false;
  if (!running_) co_return false;
  set_primary(r.elements[0].str, port, false);
  co_return true;
}

// `self` keeps the watch alive while the loop is suspended.
asio::awaitable<void> sentinel_watch::discover_loop(std::shared_ptr<sentinel_watch> /*self*/) {
  while (running_) {
    discover_again_ = false;
    bool found = false;
    for (std::size_t i = 0; i < sentinels_.size() && running_ && !found; ++i) {
      const std::size_t at = (preferred_ + i) % sentinels_.size();
      if (co_await ask(*sentinels_[at])) {
        preferred_ = at;
        found = true;
      }
    }
    if (!running_) break;
    if (found) {
      failures_ = 0;
      if (!discover_again_) break;
      // Asked again meanwhile (a replica refused, READONLY): ask once more after a pause,
      // so a Sentinel that still names a demoted primary is not asked in a tight loop.
    } else if (++failures_ == 1) {
      spdlog::warn("redis sentinel: no Sentinel of {} named the primary; retrying",
                   opts_.ep.to_string());
    }
    pause_.expires_after(
        backoff_delay(failures_, opts_.reconnect_min, opts_.reconnect_max, rng_()));
    co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  discovering_ = false;
}

}  // namespace stopgate::redis::detail
