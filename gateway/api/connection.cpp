#include "gateway/api/connection.hpp"

#include "config/version.hpp"
#include "gateway/api/line_framer.hpp"
#include "gateway/api/request_decoder.hpp"
#include "gateway/api/response_writer.hpp"
#include "gateway/net/executor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serializer.hpp>
#include <spdlog/spdlog.h>

#include <boost/asio/detail/scheduler.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace stopgate::gateway::api {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint8_t all_roles = 0x0F;
// Before authentication the only useful line is a short `auth`: longer lines are refused at
// this size, so an unauthenticated client cannot make the server hold api.max_line_bytes.
constexpr std::size_t pre_auth_max_line_bytes = 4096;
// Enough for a 64-deep pipeline (twice over); each slot holds a 2 KiB arena.
constexpr std::size_t max_free_slots = 128;

/// Logs an exception escaping a spawned coroutine (a bug: everything expected is handled).
struct log_escape {
  void operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("api: connection task failed: {}", x.what());
    } catch (...) {
      spdlog::error("api: connection task failed");
    }
  }
};

template <class Stream>
inline constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket> &&
                               !std::is_same_v<Stream, asio::local::stream_protocol::socket>;

template <class Stream>
auto& lowest_layer(Stream& s) {
  if constexpr (is_tls<Stream>) {
    return s.lowest_layer();
  } else {
    return s;
  }
}

/// Storage for one request: its JSON object and its raw id, reused across requests.
struct request_slot {
  request_slot() : arena(arena_bytes) { resource.emplace(arena.data(), arena.size()); }
  void reset() noexcept {
    value.reset();
    // A fresh resource rather than release(): Boost.JSON 1.81's release() keeps growing the
    // next block size, so a reused slot ended in bad_alloc after a few dozen large requests.
    resource.emplace(arena.data(), arena.size());
    id.clear();
    op = {};
    object = nullptr;
    def = nullptr;
  }
  boost::json::storage_ptr storage() noexcept { return boost::json::storage_ptr(&*resource); }

  static constexpr std::size_t arena_bytes = 2048;
  std::vector<unsigned char> arena;
  std::optional<boost::json::monotonic_resource> resource;
  std::optional<boost::json::value> value;
  std::string id;
  std::string_view op;                        // into value (batched requests)
  const boost::json::object* object = nullptr;  // into value (batched requests)
  const op_def* def = nullptr;                  // the op's row, as admit() found it
};
using slot_ptr = std::unique_ptr<request_slot>;

template <class Stream>
class connection final : public connection_base,
                         public std::enable_shared_from_this<connection<Stream>> {
 public:
  connection(std::shared_ptr<server_state> state, Stream stream, std::size_t context_index,
             bool loopback)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        exec_(net::connection_executor(lowest_layer(stream_).get_executor())),
        block_(state_->counters.block(context_index)),
        loopback_(loopback),
        worker_(unsigned(context_index)),
        snapshot_(state_->snapshot()),
        framer_(snapshot_->settings->api.max_line_bytes),
        space_timer_(exec_),
        watchdog_timer_(exec_) {
    reset_identity();
    identity_settled();
  }

  void start() {
    auto self = this->shared_from_this();
    state_->add_connection(self);
    block_.add(block_.connections_open, 1);
    block_.add(block_.connections_total);
    last_progress_ = clock::now();
    asio::co_spawn(exec_, run(self), log_escape{});
    asio::co_spawn(exec_, watchdog(self), log_escape{});
  }

  void begin_shutdown() override {
    asio::post(exec_, [self = this->shared_from_this()] {
      self->shutdown_requested_ = true;
      boost::system::error_code ec;
      // Wakes a pending read with end-of-file; writes in progress continue.
      lowest_layer(self->stream_).shutdown(asio::socket_base::shutdown_receive, ec);
      self->space_timer_.cancel();
      self->maybe_finish();
    });
  }

  void force_close() override {
    asio::post(exec_, [self = this->shared_from_this()] { self->close(); });
  }

 private:
  // ---- reading ------------------------------------------------------------------------------

  bool stop_reading() const noexcept { return closed_ || closing_ || shutdown_requested_; }
  std::uint32_t max_in_flight() const noexcept {
    return std::max<std::uint32_t>(1, snapshot_->settings->api.max_in_flight);
  }

  awaitable<void> run([[maybe_unused]] std::shared_ptr<connection> self) {
    if constexpr (is_tls<Stream>) {
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (ec) {
        spdlog::debug("api: TLS handshake failed: {}", ec.message());
        close();
        co_return;
      }
      touch();  // a completed handshake is progress; the auth deadline still runs
      handshake_done_ = true;
    }
    co_await read_loop();
    reading_done_ = true;
    maybe_finish();
  }

  awaitable<void> read_loop() {
    bool eof = false;
    for (;;) {
      for (;;) {
        // Backpressure: stop taking lines while the in-flight bound is reached. The lines
        // taken so far are handed over first: their responses are what frees the space.
        if (!stop_reading() && outstanding_ >= max_in_flight()) {
          flush_batch();
          while (!stop_reading() && outstanding_ >= max_in_flight()) co_await wait_for_space();
        }
        if (stop_reading()) {
          flush_batch();
          co_return;
        }
        frame_event ev = framer_.next();
        if (ev.what == frame_event::kind::need_more) break;
        handle_event(ev);
      }
      if (eof) {
        frame_event ev = framer_.finish();
        if (ev.what != frame_event::kind::need_more) handle_event(ev);
        flush_batch();
        co_return;
      }
      // Every complete line of this read is taken: its batchable requests go together.
      flush_batch();
      auto buf = framer_.prepare();
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf.data(), buf.size()), nothrow);
      // Bytes alone are not progress (a space every few seconds would hold the connection
      // forever): the idle clock restarts when they complete a line (handle_event).
      if (n > 0) {
        framer_.commit(n);
        block_.add(block_.bytes_in, n);
      }
      if (ec) {
        bool clean_end = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
        if (!clean_end) co_return;
        eof = true;
      }
    }
  }

  awaitable<void> wait_for_space() {
    space_timer_.expires_at(clock::time_point::max());
    co_await space_timer_.async_wait(nothrow);
  }

  void handle_event(const frame_event& ev) {
    refresh_snapshot();
    touch();
    ++outstanding_;
    if (ev.what == frame_event::kind::too_long) {
      if (!authenticated_) return reject_unauthenticated("null", "authenticate first");
      return respond_error("null", api_errc::line_too_long,
                           "line longer than " + std::to_string(framer_.max_line_bytes()) + " bytes");
    }
    slot_ptr slot = acquire_slot();
    decode_result decoded = decoder_.decode(ev.line, slot->value, slot->storage());
    if (decoded) block_.add(block_.requests[std::size_t(classify_op(decoded->op))]);
    if (!authenticated_) {
      if (decoded && decoded->op == "auth") {
        authenticate(*decoded);
      } else {
        reject_unauthenticated(decoded ? decoded->id : decoded.error().id, "authenticate first");
      }
      return release_slot(std::move(slot));
    }
    if (!decoded) {
      respond_error(decoded.error().id, decoded.error().code, decoded.error().message);
      return release_slot(std::move(slot));
    }
    const request_line& req = *decoded;
    const admitted a = admit(*state_->dispatch, req.op, *req.object, roles_);
    switch (a.what) {
      case admission::refused:
        respond_error(req.id, a.error.code, a.error.message);
        return release_slot(std::move(slot));
      case admission::ping:
        respond_pong(req.id);
        return release_slot(std::move(slot));
      case admission::auth:
        authenticate(req);
        return release_slot(std::move(slot));
      case admission::run:
        break;
    }
    slot->def = a.spec->def;
    slot->id.assign(req.id);
    if (state_->batch && state_->batch->batchable(req.op, a.spec->def, *req.object)) {
      slot->op = req.op;
      slot->object = req.object;
      batch_.push_back(std::move(slot));
      return;
    }
    ++dispatched_;
    block_.add(block_.in_flight, 1);
    asio::co_spawn(exec_, run_request(this->shared_from_this(), std::move(slot), req.op, req.object),
                   log_escape{});
  }

  /// Hands the batchable requests taken since the last call to one coroutine.
  void flush_batch() {
    if (batch_.empty()) return;
    std::vector<slot_ptr> slots;
    slots.swap(batch_);
    if (!spare_batches_.empty()) {
      batch_.swap(spare_batches_.back());
      spare_batches_.pop_back();
    }
    // Who is asking is fixed now: a later line of this read may be an auth or see a reload.
    std::vector<batch_entry> entries;
    entries.reserve(slots.size());
    for (const slot_ptr& s : slots) {
      entries.push_back(batch_entry{s->op, s->object,
                                    request_context{key_name_, roles_, loopback_, snapshot_->settings.get(), s->storage(),
                                                    worker_, s->def},
                                    std::nullopt, std::nullopt});
    }
    dispatched_ += slots.size();
    block_.add(block_.in_flight, std::int64_t(slots.size()));
    asio::co_spawn(exec_, run_batch(this->shared_from_this(), std::move(slots), std::move(entries)), log_escape{});
  }

  // ---- auth ---------------------------------------------------------------------------------

  void reset_identity() {
    digest_.reset();
    key_name_ = {};
    if (snapshot_->keys.empty()) {
      // No keys: only loopback peers are served, with every role.
      authenticated_ = loopback_;
      roles_ = loopback_ ? all_roles : 0;
    } else {
      authenticated_ = false;
      roles_ = 0;
    }
  }

  void authenticate(const request_line& req) {
    flush_batch();  // the requests taken so far were accepted under the current identity
    if (snapshot_->keys.empty()) {
      // Nothing to check; answering ok lets clients send auth unconditionally.
      boost::json::object fields;
      fields["key"] = nullptr;
      return respond_ok(req.id, fields);
    }
    const boost::json::value* key = req.object->if_contains("key");
    if (!key || !key->is_string()) return reject_unauthenticated(req.id, "key: missing or not a string");
    key_digest d = sha256_digest(key->get_string());
    const config::api_key_settings* match = snapshot_->keys.match_digest(d);
    if (!match) return reject_unauthenticated(req.id, "invalid key");
    authenticated_ = true;
    digest_ = d;
    roles_ = match->roles;
    key_name_ = match->name;
    identity_settled();
    boost::json::object fields;
    fields["key"] = match->name;
    boost::json::array roles;
    for (auto r : {config::role::check, config::role::send, config::role::consent, config::role::admin}) {
      if (match->has(r)) roles.emplace_back(to_string(r));
    }
    fields["roles"] = std::move(roles);
    respond_ok(req.id, fields);
  }

  void reject_unauthenticated(std::string_view id, std::string_view message) {
    respond_error(id, api_errc::unauthenticated, message);
    closing_ = true;  // closed once the response is written
  }

  /// After the identity may have changed: the line limit and the auth deadline follow it. The
  /// deadline starts when the connection first needs a key (accept, or a reload that added
  /// keys) and goes away once a key is accepted.
  void identity_settled() {
    const std::size_t max = snapshot_->settings->api.max_line_bytes;
    framer_.set_max_line_bytes(authenticated_ ? max : std::min(max, pre_auth_max_line_bytes));
    if (authenticated_) {
      auth_deadline_.reset();
    } else if (!auth_deadline_) {
      auth_deadline_ =
          clock::now() + std::chrono::milliseconds(snapshot_->settings->api.auth_timeout_ms);
      watchdog_timer_.cancel();  // it may be sleeping until a later idle deadline
    }
  }

  /// Picks up a reloaded configuration (limits, keys) for the next request.
  void refresh_snapshot() {
    if (state_->generation() == snapshot_->generation) return;
    flush_batch();  // taken under the old snapshot's identity and limits
    auto fresh = state_->snapshot();
    // In-flight requests point into the old snapshot (key name, settings): keep it alive.
    if (outstanding_ > 0) retired_.push_back(std::move(snapshot_));
    snapshot_ = std::move(fresh);
    std::optional<key_digest> digest = digest_;
    bool was_authenticated = authenticated_;
    reset_identity();
    if (was_authenticated && digest) {
      // The same key keeps working with its new roles; a removed key is revoked at once.
      if (const auto* k = snapshot_->keys.match_digest(*digest)) {
        authenticated_ = true;
        digest_ = digest;
        roles_ = k->roles;
        key_name_ = k->name;
      }
    }
    identity_settled();
  }

  // ---- requests -----------------------------------------------------------------------------

  slot_ptr acquire_slot() {
    if (free_slots_.empty()) return std::make_unique<request_slot>();
    slot_ptr s = std::move(free_slots_.back());
    free_slots_.pop_back();
    return s;
  }
  void release_slot(slot_ptr s) {
    // Keep a few for reuse; a burst of deep pipelining must not pin its peak memory.
    if (free_slots_.size() >= max_free_slots) return;
    s->reset();
    free_slots_.push_back(std::move(s));
  }

  awaitable<void> run_request([[maybe_unused]] std::shared_ptr<connection> self, slot_ptr slot, std::string_view op,
                              const boost::json::object* req) {
    {
      request_context ctx{key_name_, roles_, loopback_, snapshot_->settings.get(), slot->storage(), worker_,
                          slot->def};
      std::optional<op_result> result;
      try {
        result.emplace(co_await state_->dispatch->async_handle(op, *req, ctx));
      } catch (const std::exception& e) {
        spdlog::error("api: op {} failed: {}", op, e.what());
      } catch (...) {
        spdlog::error("api: op {} failed with a non-standard exception", op);
      }
      --dispatched_;
      block_.add(block_.in_flight, -1);
      if (!closed_) {
        if (!result) {
          respond_error(slot->id, api_errc::internal, "internal error");
        } else if (result->has_value()) {
          respond_ok(slot->id, **result);
        } else {
          respond_error(slot->id, result->error().code, result->error().message);
        }
      }
    }  // the result may live in the slot's arena: destroy it before the slot is reused
    release_slot(std::move(slot));
  }

  awaitable<void> run_batch([[maybe_unused]] std::shared_ptr<connection> self, std::vector<slot_ptr> slots,
                            std::vector<batch_entry> entries) {
    std::string text;
    if (!spare_texts_.empty()) {
      text.swap(spare_texts_.back());
      spare_texts_.pop_back();
    }
    try {
      co_await state_->batch->async_handle_batch(entries, text);
    } catch (const std::exception& e) {
      spdlog::error("api: a batch of {} requests failed: {}", entries.size(), e.what());
    } catch (...) {
      spdlog::error("api: a batch of {} requests failed with a non-standard exception", entries.size());
    }
    dispatched_ -= slots.size();
    block_.add(block_.in_flight, -std::int64_t(slots.size()));
    if (!closed_) {
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::optional<op_result>& result = entries[i].result;
        const std::optional<written_fields>& written = entries[i].written;
        if (result && result->has_value()) {
          respond_ok(slots[i]->id, **result);
        } else if (result) {
          respond_error(slots[i]->id, result->error().code, result->error().message);
        } else if (written && written->begin <= written->end && written->end <= text.size()) {
          respond_ok_text(slots[i]->id, std::string_view(text).substr(written->begin, written->end - written->begin));
        } else {
          respond_error(slots[i]->id, api_errc::internal, "internal error");
        }
      }
    }
    entries.clear();  // results may live in the slots' arenas: destroy them first
    for (slot_ptr& s : slots) release_slot(std::move(s));
    // Keep the emptied vector and text buffer for the next read's batch (unless one huge
    // answer made the buffer large).
    slots.clear();
    if (spare_batches_.size() < 2) spare_batches_.push_back(std::move(slots));
    if (spare_texts_.size() < 2 && text.capacity() <= (1u << 20)) {
      text.clear();
      spare_texts_.push_back(std::move(text));
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  void respond_ok(std::string_view id, const boost::json::object& fields) {
    append_ok(pending_, id, fields, serializer_);
    queued();
  }
  void respond_ok_text(std::string_view id, std::string_view members) {
    append_ok_text(pending_, id, members);
    queued();
  }
  void respond_error(std::string_view id, api_errc code, std::string_view message) {
    block_.add(block_.errors[std::size_t(code)]);
    append_error(pending_, id, code, message);
    queued();
  }
  void respond_pong(std::string_view id) {
    pending_.append("{\"id\":").append(id).append(",\"ok\":true,\"pong\":true,\"version\":");
    append_json_string(pending_, stopgate::version());
    pending_.append("}\n");
    queued();
  }

  void queued() {
    ++pending_count_;
    if (writing_ || closed_) return;
    writing_ = true;
    asio::co_spawn(exec_, write_loop(this->shared_from_this()), log_escape{});
  }

  awaitable<void> write_loop([[maybe_unused]] std::shared_ptr<connection> self) {
    // Everything queued while a write is in flight goes out together in the next write.
    while (!pending_.empty() && !closed_) {
      std::swap(active_, pending_);
      std::size_t count = pending_count_;
      pending_count_ = 0;
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(active_), nothrow);
      if (ec) {
        writing_ = false;
        close();
        co_return;
      }
      block_.add(block_.bytes_out, n);
      touch();
      outstanding_ -= count;
      // Keep the buffer for reuse unless one huge response made it large.
      if (active_.capacity() > (1u << 20)) {
        std::string().swap(active_);
      } else {
        active_.clear();
      }
      space_timer_.cancel();
    }
    writing_ = false;
    maybe_finish();
  }

  // ---- lifetime -----------------------------------------------------------------------------

  void touch() noexcept { last_progress_ = clock::now(); }

  void maybe_finish() {
    if (closed_ || outstanding_ > 0) return;
    retired_.clear();
    if ((reading_done_ || shutdown_requested_) && !writing_ && pending_.empty()) close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    lowest_layer(stream_).close(ec);
    space_timer_.cancel();
    watchdog_timer_.cancel();
    block_.add(block_.connections_open, -1);
    state_->open.fetch_sub(1, std::memory_order_relaxed);
    state_->remove_connection(this);
  }

  /// Authentication did not succeed in time: answer `unauthenticated` and close once that is
  /// written; a client that does not read it is cut off after one more auth_timeout_ms.
  void auth_expired() {
    auth_deadline_.reset();
    if (!handshake_done_) {
      // Still in the TLS handshake: there is no channel to answer on.
      close();
      return;
    }
    const auto ms = snapshot_->settings->api.auth_timeout_ms;
    if (!closing_) {   // (already refused for another reason: that answer is the last)
      ++outstanding_;  // the answer below, like a line's
      reject_unauthenticated(
          "null", "no successful auth within api.auth_timeout_ms (" + std::to_string(ms) + " ms)");
    }
    boost::system::error_code ec;
    // Wakes the pending read: nothing more is read from this client.
    lowest_layer(stream_).shutdown(asio::socket_base::shutdown_receive, ec);
    space_timer_.cancel();
    hard_close_at_ = clock::now() + std::chrono::milliseconds(ms);
  }

  awaitable<void> watchdog([[maybe_unused]] std::shared_ptr<connection> self) {
    while (!closed_) {
      auto now = clock::now();
      if (hard_close_at_ && now >= *hard_close_at_) {
        spdlog::debug("api: closing an unauthenticated connection whose answer was not read");
        close();
        co_return;
      }
      if (auth_deadline_ && !authenticated_ && now >= *auth_deadline_) {
        spdlog::debug("api: closing a connection that did not authenticate in time");
        auth_expired();
        if (closed_) co_return;
        continue;
      }
      auto timeout = std::chrono::milliseconds(snapshot_->settings->api.idle_timeout_ms);
      auto deadline = last_progress_ + timeout;
      if (now >= deadline) {
        // Idle (nothing in flight) or a write that made no progress: close. Slow handlers
        // with nothing to write are left to their own deadlines.
        if (writing_ || outstanding_ == 0) {
          spdlog::debug("api: closing connection after {} ms without progress", timeout.count());
          close();
          co_return;
        }
        deadline = now + timeout;
      }
      if (auth_deadline_ && !authenticated_) deadline = std::min(deadline, *auth_deadline_);
      if (hard_close_at_) deadline = std::min(deadline, *hard_close_at_);
      watchdog_timer_.expires_at(deadline);
      co_await watchdog_timer_.async_wait(nothrow);
    }
  }

  std::shared_ptr<server_state> state_;
  Stream stream_;
  asio::any_io_executor exec_;  // a strand, or the socket's executor (one thread per context)
  counter_block& block_;
  const bool loopback_;
  const unsigned worker_;  // the index of this connection's io_context (request_context::worker)

  std::shared_ptr<const settings_snapshot> snapshot_;
  std::vector<std::shared_ptr<const settings_snapshot>> retired_;
  bool authenticated_ = false;
  std::uint8_t roles_ = 0;
  std::string_view key_name_;  // points into snapshot_ (or a retired one)
  std::optional<key_digest> digest_;

  line_framer framer_;
  request_decoder decoder_;
  boost::json::serializer serializer_;
  std::vector<slot_ptr> free_slots_;
  std::vector<slot_ptr> batch_;                       // batchable requests of the current read
  std::vector<std::vector<slot_ptr>> spare_batches_;  // emptied batch vectors, reused
  std::vector<std::string> spare_texts_;              // emptied batch answer buffers, reused

  std::string pending_;  // responses waiting for the next write
  std::string active_;   // the write in flight
  std::size_t pending_count_ = 0;
  std::size_t outstanding_ = 0;  // lines read whose response is not yet written
  std::size_t dispatched_ = 0;   // requests inside the dispatcher
  bool writing_ = false;
  bool reading_done_ = false;
  bool closing_ = false;  // close after the queued responses are written
  bool shutdown_requested_ = false;
  bool closed_ = false;

  asio::steady_timer space_timer_;
  asio::steady_timer watchdog_timer_;
  clock::time_point last_progress_;                 // last complete line read or write finished
  std::optional<clock::time_point> auth_deadline_;  // keys configured, not yet authenticated
  std::optional<clock::time_point> hard_close_at_;  // auth expired: its answer's last chance
  bool handshake_done_ = !is_tls<Stream>;
};

template <class Stream>
void start(const std::shared_ptr<server_state>& state, Stream stream, std::size_t index, bool loopback) {
  auto c = std::make_shared<connection<Stream>>(state, std::move(stream), index, loopback);
  c->start();
}

}  // namespace

void start_connection(const std::shared_ptr<server_state>& state, tcp::socket socket,
                      std::size_t context_index, bool loopback) {
  start(state, std::move(socket), context_index, loopback);
}

void start_connection(const std::shared_ptr<server_state>& state,
                      asio::ssl::stream<tcp::socket> stream, std::size_t context_index,
                      bool loopback) {
  start(state, std::move(stream), context_index, loopback);
}

void start_connection(const std::shared_ptr<server_state>& state,
                      asio::local::stream_protocol::socket socket, std::size_t context_index) {
  start(state, std::move(socket), context_index, true);
}

}  // namespace stopgate::gateway::api
