#include "redis/connection.hpp"

#include "redis/backoff.hpp"
#include "redis/resp.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/ioctl.h>

#include <algorithm>
#include <array>

namespace stopgate::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;

struct connection::waiter {
  explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  error_code result;
  bool done = false;
  bool attempt_only = false;  // also wakes (not_connected) when an attempt fails
};

namespace {
// Marks the ROLE reply among the handshake replies (its address is the tag).
char role_tag;
}  // namespace

connection::connection(asio::any_io_executor ex, client_options opts, std::string_view role)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      ep_(opts_.ep),
      role_(role),
      connect_timer_(ex_),
      reconnect_timer_(ex_),
      rng_(std::random_device{}()) {}

connection::~connection() {
  // Nothing may be rescheduled from here: a stopped state makes on_cleanup quiet.
  state_ = state::stopped;
  if (ac_ != nullptr) {
    closing_ = errc::stopped;
    redisAsyncFree(ac_);
  }
}

void connection::start() {
  if (state_ != state::idle && state_ != state::stopped) return;
  closing_ = errc::connection_lost;
  if (ac_ != nullptr) {
    // A free deferred by hiredis (stop() inside a callback) has not happened yet; its cleanup
    // schedules the reconnect.
    state_ = state::backing_off;
    return;
  }
  connect();
}

void connection::stop() {
  if (state_ == state::stopped) return;
  const bool was_running = state_ != state::idle;
  state_ = state::stopped;
  connect_timer_.cancel();
  reconnect_timer_.cancel();
  if (ac_ != nullptr) {
    closing_ = errc::stopped;
    // Inside a hiredis callback this is deferred by hiredis until the callback returns.
    redisAsyncFree(ac_);
  }
  notify_waiters(errc::stopped);
  if (was_running) spdlog::info("redis {}: stopped ({})", role_, ep_.to_string());
}

void connection::reconnect(std::string_view why) {
  if (state_ == state::stopped || state_ == state::idle) return;
  // A deliberate move, not a failure: the next attempt gets the shortest delay.
  attempt_ = 0;
  if (ac_ != nullptr) {
    close_context(std::string(why));
    return;
  }
  if (state_ == state::backing_off) {
    reconnect_timer_.cancel();
    connect();
  }
}

error_code connection::closing_code() const noexcept {
  if (closing_ == errc::connection_lost && ac_ != nullptr && ac_->err == REDIS_ERR_PROTOCOL)
    return errc::protocol;
  return closing_;
}

void connection::fail_attempt(std::string_view what) {
  log_failure(what);
  state_ = state::backing_off;
  notify_attempt_failed();
  schedule_reconnect();
}

void connection::connect() {
  state_ = state::connecting;
  closing_ = errc::connection_lost;
  last_error_.clear();
  if (resolve) {
    auto where = resolve();
    if (!where) {
      // Not logged: the owner (the Sentinel watch) logs its own search, and moves this
      // connection on (reconnect()) as soon as it has an address.
      last_error_ = "no address known yet";
      state_ = state::backing_off;
      notify_attempt_failed();
      schedule_reconnect();
      return;
    }
    ep_ = std::move(*where);
  }
  redisAsyncContext* ac = nullptr;
  if (ep_.type == endpoint::kind::unix_socket) {
    ac = redisAsyncConnectUnix(ep_.path.c_str());
  } else if (ep_.type == endpoint::kind::tcp) {
    // hiredis resolves names with getaddrinfo (blocking); IP literals do not block.
    ac = redisAsyncConnect(ep_.host.c_str(), ep_.port);
  } else {
    last_error_ = "endpoint must be tcp or unix (start a managed_server first)";
    fail_attempt("cannot connect");
    return;
  }
  if (ac == nullptr || ac->err != 0) {
    last_error_ = ac != nullptr ? ac->errstr : "out of memory";
    if (ac != nullptr) redisAsyncFree(ac);
    fail_attempt("connect failed");
    return;
  }
  attach(ac);
}

void connection::attach(redisAsyncContext* ac) {
  error_code ec;
  sd_.emplace(ex_);
  sd_->assign(ac->c.fd, ec);
  if (ec) {
    sd_.reset();
    last_error_ = ec.message();
    redisAsyncFree(ac);
    fail_attempt("cannot watch socket");
    return;
  }
  ac_ = ac;
  ++gen_;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = &hook_add_read;
  ac->ev.delRead = &hook_del_read;
  ac->ev.addWrite = &hook_add_write;
  ac->ev.delWrite = &hook_del_write;
  ac->ev.cleanup = &hook_cleanup;
  if (ep_.type == endpoint::kind::tcp) redisEnableKeepAlive(&ac->c);
  // Registering the connect callback arms the first write wait: writable = connected.
  redisAsyncSetConnectCallback(ac, &on_connect_cb);

  connect_timer_.expires_after(opts_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), gen = gen_](error_code e) {
    if (e || gen != self->gen_) return;
    if (self->state_ == state::connecting || self->state_ == state::handshaking)
      self->close_context("connect timed out");
  });
}

void connection::on_connect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<connection*>(ac->data);
  if (status != REDIS_OK) {
    // hiredis frees the context right after this; hook_cleanup schedules the retry.
    self->last_error_ = ac->errstr;
    return;
  }
  self->on_connected();
}

void connection::queue_handshake(std::span<const std::string_view> args, void* tag) {
  scratch.clear();
  append_command(scratch, args);
  if (redisAsyncFormattedCommand(ac_, &on_handshake_reply, tag, scratch.data(), scratch.size()) ==
      REDIS_OK)
    ++handshake_left_;
  std::fill(scratch.begin(), scratch.end(), '\0');  // do not leave a password around
  scratch.clear();
}

void connection::on_connected() {
  state_ = state::handshaking;
  handshake_left_ = 0;
  // AUTH, SELECT and ROLE go first on the wire: nothing else is queued before ready.
  if (!ep_.password.empty()) {
    if (ep_.username.empty()) {
      const std::array<std::string_view, 2> auth{"AUTH", ep_.password};
      queue_handshake(auth, nullptr);
    } else {
      const std::array<std::string_view, 3> auth{"AUTH", ep_.username, ep_.password};
      queue_handshake(auth, nullptr);
    }
  }
  if (ep_.db != 0) {
    const std::string db = std::to_string(ep_.db);
    const std::array<std::string_view, 2> select{"SELECT", db};
    queue_handshake(select, nullptr);
  }
  if (require_primary) {
    const std::array<std::string_view, 1> role{"ROLE"};
    queue_handshake(role, &role_tag);
  }
  if (handshake_left_ == 0) become_ready();
}

void connection::on_handshake_reply(redisAsyncContext* ac, void* r, void* priv) {
  auto* self = static_cast<connection*>(ac->data);
  if (r == nullptr) return;  // the context is going away; cleanup handles it
  const auto* rep = static_cast<const redisReply*>(r);
  if (rep->type == REDIS_REPLY_ERROR) {
    // The server's text ("WRONGPASS ...", "ERR DB index is out of range") has no secrets.
    // Logged once by on_cleanup (as the connect failure), like every other failed attempt.
    self->close_context("AUTH/SELECT/ROLE rejected: " + std::string(rep->str, rep->len));
    return;
  }
  if (priv == &role_tag) {
    const bool primary = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                         rep->element[0]->type == REDIS_REPLY_STRING &&
                         std::string_view(rep->element[0]->str, rep->element[0]->len) == "master";
    if (!primary) {
      // Never write to a replica: drop it and let the owner find the primary again.
      self->close_context("the node is not a primary (ROLE)");
      if (self->on_replica) self->on_replica();
      return;
    }
  }
  if (--self->handshake_left_ == 0 && self->state_ == state::handshaking) self->become_ready();
}

void connection::become_ready() {
  state_ = state::ready;
  connect_timer_.cancel();
  if (attempt_ > 0 || ever_ready_)
    spdlog::info("redis {}: connected to {} after {} retries", role_, ep_.to_string(), attempt_);
  else
    spdlog::info("redis {}: connected to {}", role_, ep_.to_string());
  attempt_ = 0;
  ever_ready_ = true;
  notify_waiters({});
  if (on_ready) on_ready();
}

void connection::close_context(std::string why) {
  if (ac_ == nullptr) return;
  last_error_ = std::move(why);
  closing_ = errc::connection_lost;
  // Deferred by hiredis when called inside one of its callbacks.
  redisAsyncFree(ac_);
}

void connection::on_cleanup() {
  const state prev = state_;
  if (ac_ != nullptr && ac_->err != 0 && ac_->errstr[0] != '\0') last_error_ = ac_->errstr;
  // Release, not close: hiredis closes the fd right after this hook.
  if (sd_) {
    sd_->release();
    sd_.reset();
  }
  ac_ = nullptr;
  ++gen_;
  want_read_ = want_write_ = false;
  read_armed_ = write_armed_ = false;
  connect_timer_.cancel();
  if (prev == state::stopped) return;
  if (prev == state::ready) {
    spdlog::warn("redis {}: connection to {} lost: {}", role_, ep_.to_string(),
                 last_error_.empty() ? "closed" : last_error_);
    state_ = state::backing_off;
    schedule_reconnect();
    if (on_down) on_down();
    return;
  }
  fail_attempt("connect failed");
}

void connection::log_failure(std::string_view what) {
  // The first failure in a row is news; the retries that follow are noise.
  if (attempt_ == 0)
    spdlog::warn("redis {}: {} to {}: {}; retrying", role_, what, ep_.to_string(), last_error_);
  else
    spdlog::debug("redis {}: {} to {}: {} (retry {})", role_, what, ep_.to_string(), last_error_,
                  attempt_);
}

void connection::schedule_reconnect() {
  const auto delay = backoff_delay(attempt_, opts_.reconnect_min, opts_.reconnect_max, rng_());
  ++attempt_;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->state_ == state::backing_off && self->ac_ == nullptr) self->connect();
  });
}

void connection::notify_waiters(error_code ec) {
  for (auto& w : waiters_) {
    w->done = true;
    w->result = ec;
    w->timer.cancel();  // completes on the executor, never inline
  }
  waiters_.clear();
}

void connection::notify_attempt_failed() {
  for (auto& w : waiters_) {
    if (!w->attempt_only) continue;
    w->done = true;
    w->result = errc::not_connected;
    w->timer.cancel();
  }
  std::erase_if(waiters_, [](const auto& w) { return w->attempt_only; });
}

asio::awaitable<error_code> connection::async_wait_connected(std::chrono::milliseconds timeout) {
  return wait(timeout, false);
}

asio::awaitable<error_code> connection::async_wait_attempt(std::chrono::milliseconds timeout) {
  return wait(timeout, true);
}

asio::awaitable<error_code> connection::wait(std::chrono::milliseconds timeout, bool attempt_only) {
  if (state_ == state::ready) co_return error_code{};
  if (state_ == state::stopped) co_return errc::stopped;
  if (attempt_only && (state_ == state::backing_off || state_ == state::idle))
    co_return errc::not_connected;
  auto self = shared_from_this();
  auto w = std::make_shared<waiter>(ex_);
  w->attempt_only = attempt_only;
  w->timer.expires_after(timeout);
  waiters_.push_back(w);
  auto [ec] = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (w->done) co_return w->result;
  std::erase(self->waiters_, w);
  co_return ec == asio::error::operation_aborted ? error_code(asio::error::operation_aborted)
                                                 : error_code(errc::timeout);
}

// --- the hiredis <-> Asio bridge -------------------------------------------------------------

void connection::hook_add_read(void* p) {
  auto* self = static_cast<connection*>(p);
  self->want_read_ = true;
  self->arm_read();
}
void connection::hook_del_read(void* p) {
  static_cast<connection*>(p)->want_read_ = false;
}
void connection::hook_add_write(void* p) {
  auto* self = static_cast<connection*>(p);
  self->want_write_ = true;
  self->arm_write();
}
void connection::hook_del_write(void* p) {
  static_cast<connection*>(p)->want_write_ = false;
}
void connection::hook_cleanup(void* p) {
  static_cast<connection*>(p)->on_cleanup();
}

void connection::arm_read() {
  if (read_armed_ || !sd_) return;
  read_armed_ = true;
  sd_->async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this(), gen = gen_](error_code ec) { self->on_readable(ec, gen); });
}

void connection::arm_write() {
  if (write_armed_ || !sd_) return;
  write_armed_ = true;
  sd_->async_wait(
      asio::posix::stream_descriptor::wait_write,
      [self = shared_from_this(), gen = gen_](error_code ec) { self->on_writable(ec, gen); });
}

void connection::on_readable(error_code ec, std::uint64_t gen) {
  if (gen != gen_) return;  // a wait of a context that no longer exists
  read_armed_ = false;
  if (ec == asio::error::operation_aborted || ac_ == nullptr) return;
  if (!want_read_) return;
  const int fd = ac_->c.fd;
  // hiredis reads 16 KiB per call; drain what the kernel already holds before waiting again.
  for (int round = 0; round < 128; ++round) {
    redisAsyncHandleRead(ac_);
    if (gen != gen_ || ac_ == nullptr) return;  // freed inside (error, stop, handshake failure)
    int avail = 0;
    if (::ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0) break;
  }
  if (want_read_) arm_read();
}

void connection::on_writable(error_code ec, std::uint64_t gen) {
  if (gen != gen_) return;
  write_armed_ = false;
  if (ec == asio::error::operation_aborted || ac_ == nullptr) return;
  if (!want_write_) return;
  redisAsyncHandleWrite(ac_);
  if (gen != gen_ || ac_ == nullptr) return;
  if (want_write_) arm_write();
}

}  // namespace stopgate::redis::detail
