#include "redis/subscriber.hpp"

#include "redis/connection.hpp"
#include "redis/resp.hpp"
#include "redis/sentinel.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <vector>

namespace stopgate::redis {
namespace detail {

// Lives as long as the connection's on_ready hook; hiredis' subscribe callbacks point at it.
struct subscription_state {
  std::vector<std::string> channels;
  std::function<void(std::string_view, std::string_view)> on_message;
  std::function<void()> on_subscribed;
  std::size_t unconfirmed = 0;  // channels sent on this connection, not yet confirmed
  bool closed = false;          // the subscriber is gone: call nothing any more
  connection* conn = nullptr;   // owner of this state (through on_ready); never dangling
  std::string buf;
};

namespace {

std::string_view view(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

void on_push(redisAsyncContext* ac, void* r, void* priv);

void send_subscribe(subscription_state& st, std::span<const std::string> channels) {
  redisAsyncContext* ac = st.conn->context();
  if (ac == nullptr || channels.empty()) return;
  std::vector<std::string_view> args;
  args.reserve(channels.size() + 1);
  args.push_back("SUBSCRIBE");
  for (const auto& ch : channels) args.push_back(ch);
  st.buf.clear();
  append_command(st.buf, args);
  if (redisAsyncFormattedCommand(ac, &on_push, &st, st.buf.data(), st.buf.size()) == REDIS_OK)
    st.unconfirmed += channels.size();
}

void announce(subscription_state& st) {
  // Posted: the owner's resync may issue commands and must not run inside hiredis.
  boost::asio::post(st.conn->executor(),
                    [w = st.conn->weak_from_this(), s = &st, gen = st.conn->generation()] {
                      auto conn = w.lock();
                      if (!conn || s->closed || conn->generation() != gen || !conn->ready()) return;
                      if (s->on_subscribed) s->on_subscribed();
                    });
}

void on_push(redisAsyncContext* ac, void* r, void* priv) {
  (void)ac;
  auto* st = static_cast<subscription_state*>(priv);
  if (r == nullptr || st->closed) return;
  const auto* rep = static_cast<const redisReply*>(r);
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
  const std::string_view kind = view(rep->element[0]);
  if (kind == "message") {
    if (st->on_message) st->on_message(view(rep->element[1]), view(rep->element[2]));
  } else if (kind == "subscribe") {
    if (st->unconfirmed > 0 && --st->unconfirmed == 0) announce(*st);
  }
}

}  // namespace
}  // namespace detail

subscriber::subscriber(boost::asio::any_io_executor ex, client_options opts)
    : st_(std::make_shared<detail::subscription_state>()) {
  const endpoint ep = opts.ep;
  if (ep.type == endpoint::kind::sentinel)
    sentinel_ = std::make_shared<detail::sentinel_watch>(ex, opts);
  conn_ = std::make_shared<detail::connection>(std::move(ex), std::move(opts), "subscriber");
  // Replicas relay what is published on their primary: no ROLE check needed.
  if (sentinel_) sentinel_->follow(conn_, /*require_primary=*/false);
  if (ep.type == endpoint::kind::cluster) {
    conn_->resolve = [ep, next = std::size_t(0)]() mutable -> std::optional<endpoint> {
      const host_port& seed = ep.nodes[next++ % ep.nodes.size()];
      endpoint e;
      e.type = endpoint::kind::tcp;
      e.host = seed.host;
      e.port = seed.port;
      e.username = ep.username;
      e.password = ep.password;
      return e;
    };
  }
  st_->conn = conn_.get();
  conn_->on_ready = [st = st_] {
    st->unconfirmed = 0;
    if (st->channels.empty())
      detail::announce(*st);
    else
      detail::send_subscribe(*st, st->channels);
  };
}

subscriber::~subscriber() {
  st_->closed = true;
  conn_->stop();
  if (sentinel_) sentinel_->stop();
}

void subscriber::subscribe(std::string channel) {
  if (std::find(st_->channels.begin(), st_->channels.end(), channel) != st_->channels.end()) return;
  st_->channels.push_back(std::move(channel));
  if (conn_->ready()) detail::send_subscribe(*st_, std::span(&st_->channels.back(), 1));
}

void subscriber::on_message(std::function<void(std::string_view, std::string_view)> f) {
  st_->on_message = std::move(f);
}
void subscriber::on_subscribed(std::function<void()> f) {
  st_->on_subscribed = std::move(f);
}
void subscriber::start() {
  if (sentinel_) sentinel_->start();
  conn_->start();
}
void subscriber::stop() {
  conn_->stop();
  if (sentinel_) sentinel_->stop();
}
bool subscriber::connected() const noexcept {
  return conn_->ready();
}

}  // namespace stopgate::redis
