#include "carriers/relay/relay.hpp"

#include "carriers/http/client.hpp"
#include "carriers/relay/backoff.hpp"
#include "carriers/relay/carrier_states.hpp"
#include "carriers/relay/rules.hpp"
#include "carriers/sandbox/wire.hpp"
#include "carriers/wire/adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <random>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::carriers::relay {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string transport_code(const boost::system::error_code& ec) {
  using http::client_errc;
  if (ec.category() != http::client_category()) return "transport";
  switch (static_cast<client_errc>(ec.value())) {
    case client_errc::timeout: return "timeout";
    case client_errc::connect_failed: return "connect";
    case client_errc::tls_failed: return "tls";
    case client_errc::dns_failed: return "dns";
    case client_errc::send_failed: return "send";
    case client_errc::recv_failed: return "recv";
    case client_errc::too_large: return "too_large";
    case client_errc::stopped: return "stopped";
    case client_errc::curl_error: return "transport";
    case client_errc::invalid_request: return "invalid_request";
    case client_errc::overloaded: return "overloaded";
  }
  return "transport";
}

// A concurrency slot held for one call; released on every path out.
class slot_guard {
 public:
  explicit slot_guard(carrier_state& st) : st_(st) {}
  ~slot_guard() { st_.release_slot(); }
  slot_guard(const slot_guard&) = delete;
  slot_guard& operator=(const slot_guard&) = delete;

 private:
  carrier_state& st_;
};

// A call the circuit breaker let through. It ends with a verdict, or (on any other way out,
// an exception included) frees the breaker's probe, so a half-open circuit never sticks.
class circuit_pass {
 public:
  explicit circuit_pass(carrier_state& st) : st_(st) {}
  ~circuit_pass() {
    if (pending_) st_.abandon();
  }
  circuit_pass(const circuit_pass&) = delete;
  circuit_pass& operator=(const circuit_pass&) = delete;

  void limited() {
    pending_ = false;
    st_.abandon_limited();
  }
  void verdict(const attempt& a) {
    pending_ = false;
    st_.finish_call(result_of(a), breaker_failure(a), a.duration, clock::now());
  }

 private:
  carrier_state& st_;
  bool pending_ = true;
};

enum class slot_wait { got, busy, stopped };

void fill_failed(relay_result& res) {
  res.status = relay_status::failed;
  if (res.attempts.empty()) {
    res.failure = failure_class::permanent;
    res.error_code = "no_route";
    res.error_message = "the route names no carrier";
    return;
  }
  const attempt& last = res.attempts.back();
  res.carrier = last.carrier;
  res.failure = last.failure;
  res.error_code = last.error_code;
  res.error_message = last.error_message;
  res.outcome_unknown = outcome_unknown(last);
}

}  // namespace

struct relay::impl {
  impl(asio::any_io_executor e, std::shared_ptr<carrier_states> s, relay_options o)
      : ex(std::move(e)), states(std::move(s)), opts(std::move(o)), client(ex, opts.http),
        rng(std::random_device{}()) {}

  asio::any_io_executor ex;
  std::shared_ptr<carrier_states> states;
  relay_options opts;
  http::client client;
  std::mt19937_64 rng;
  bool stopped = false;
  std::vector<asio::steady_timer*> timers;  // every wait in progress, cancelled by stop()
  // Sends queued for a concurrency slot. stop() takes them out of their carrier's queue, so
  // no other thread hands a slot (and posts a wake-up) to this relay's executor afterwards.
  std::vector<std::pair<carrier_state*, std::shared_ptr<carrier_state::slot_waiter>>> queued;

  std::uint64_t random() { return opts.random ? opts.random() : rng(); }
  std::chrono::system_clock::time_point wall_now() const {
    return opts.wall_clock ? opts.wall_clock() : std::chrono::system_clock::now();
  }

  void stop() {
    stopped = true;
    for (auto& [st, w] : queued) st->withdraw(w);
    for (auto* t : timers) t->cancel();
    client.stop();
  }

  // Waits on `t` until it expires or is cancelled; false once stopped.
  asio::awaitable<bool> wait_on(asio::steady_timer& t) {
    timers.push_back(&t);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(timers, &t);
    co_return !stopped;
  }

  asio::awaitable<bool> sleep(clock::duration d) {
    if (d <= clock::duration::zero()) co_return !stopped;
    asio::steady_timer t(ex, d);
    co_return co_await wait_on(t);
  }

  asio::awaitable<slot_wait> acquire_slot(carrier_state& st, clock::time_point deadline) {
    if (st.try_acquire_slot()) co_return slot_wait::got;
    auto w = std::make_shared<carrier_state::slot_waiter>(ex);
    if (st.acquire_or_enqueue(w)) co_return slot_wait::got;
    w->timer.expires_at(deadline);
    queued.emplace_back(&st, w);
    const bool running = co_await wait_on(w->timer);
    std::erase_if(queued, [&](const auto& q) { return q.second == w; });
    const bool granted = st.finish_wait(w);
    if (!running) {
      if (granted) st.release_slot();
      co_return slot_wait::stopped;
    }
    co_return granted ? slot_wait::got : slot_wait::busy;
  }

  // The call itself: one HTTP request, or one outbox line for the sandbox.
  asio::awaitable<void> call(const config::carrier_settings& cs, carrier_state& st,
                             const outbound_message& msg, attempt& a, send_outcome& out) {
    const auto start = clock::now();
    if (cs.type == config::carrier_type::sandbox) {
      auto box = st.outbox_file();
      const auto ec = box ? box->append(sandbox::outbox_line(msg, wall_now()))
                          : make_error_code(boost::system::errc::bad_file_descriptor);
      a.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
      if (ec) {
        a.error_code = "outbox";
        a.error_message = ec.message();
        a.failure = failure_class::retryable;
        co_return;
      }
      out = sandbox::accepted_outcome(msg);
      a.accepted = true;
      a.request_sent = true;
      co_return;
    }
    auto built = build_send(cs, msg);
    if (!built) {
      a.error_code = "invalid_request";
      a.error_message = "carrier type has no send request";
      a.failure = failure_class::permanent;
      co_return;
    }
    http::request r;
    r.method = std::move(built->method);
    r.url = std::move(built->url);
    r.headers = std::move(built->headers);
    if (!built->content_type.empty()) r.headers.emplace_back("Content-Type", built->content_type);
    r.body = std::move(built->body);
    r.timeout = milliseconds(cs.timeout_ms);
    auto res = co_await client.async_request(std::move(r));
    a.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
    if (!res) {
      const http::failure& f = res.error();
      a.request_sent = f.request_sent;
      a.error_code = transport_code(f.code);
      a.error_message = f.code.message();
      a.failure = a.error_code == "invalid_request" ? failure_class::permanent
                                                    : failure_class::retryable;
      co_return;
    }
    a.request_sent = true;
    a.http_status = static_cast<int>(res->status);
    out = parse_send_response(cs.type, a.http_status, res->headers, res->body, wall_now());
    a.accepted = out.accepted;
    a.failure = out.failure;
    a.error_code = out.error_code;
    a.error_message = out.error_message;
  }

  // Tries one carrier up to 1 + retries times; fills `res` when it accepts.
  asio::awaitable<next_step> on_carrier(const config::carrier_settings& cs, carrier_state& st,
                                        const outbound_message& msg, clock::time_point deadline,
                                        relay_result& res) {
    milliseconds backoff{0};
    for (std::uint32_t try_number = 1;; ++try_number) {
      attempt a;
      a.carrier = cs.name;
      a.try_number = try_number;
      a.backoff = backoff;
      auto give_up = [&](std::string code, failure_class f) {
        a.error_code = std::move(code);
        a.failure = f;
        res.attempts.push_back(std::move(a));
        return after_attempt(res.attempts.back(), cs.retries);
      };
      if (stopped) co_return give_up("stopped", failure_class::retryable);
      auto now = clock::now();
      if (!st.try_enter_circuit(now)) co_return give_up("circuit_open", failure_class::retryable);
      circuit_pass pass(st);
      const auto wait = st.reserve_token(now, std::max(deadline - now, clock::duration::zero()));
      if (!wait) {
        pass.limited();
        co_return give_up("rate_limited", failure_class::retryable);
      }
      if (!co_await sleep(*wait)) co_return give_up("stopped", failure_class::retryable);
      switch (co_await acquire_slot(st, deadline)) {
        case slot_wait::got: break;
        case slot_wait::busy:
          pass.limited();
          co_return give_up("busy", failure_class::retryable);
        case slot_wait::stopped: co_return give_up("stopped", failure_class::retryable);
      }
      send_outcome out;
      {
        slot_guard slot(st);
        co_await call(cs, st, msg, a, out);
      }
      // A call cut short by stop() says nothing about the carrier (the pass frees the probe).
      if (a.http_status != 0 || a.error_code != "stopped") pass.verdict(a);
      res.attempts.push_back(std::move(a));
      const next_step next = after_attempt(res.attempts.back(), cs.retries);
      if (next == next_step::done) {
        res.status = relay_status::sent;
        res.carrier = cs.name;
        res.carrier_message_id = std::move(out.carrier_message_id);
        res.carrier_status = std::move(out.carrier_status);
        co_return next;
      }
      if (next != next_step::retry) co_return next;
      backoff = backoff_delay({milliseconds(cs.backoff_initial_ms), milliseconds(cs.backoff_max_ms)},
                              try_number, out.retry_after, random());
      // A carrier that wants us back later than the deadline allows: the next one.
      if (clock::now() + backoff > deadline) co_return next_step::fail_over;
      const milliseconds waited = opts.delay ? opts.delay(cs.name, backoff) : backoff;
      co_await sleep(waited);  // a stop is seen at the top of the loop
    }
  }

  asio::awaitable<void> send(const config::settings& s, std::span<const std::string> route,
                             const outbound_message& msg, relay_result& res) {
    const auto deadline = clock::now() + opts.send_deadline;
    for (const std::string& name : route) {
      const config::carrier_settings* cs = s.carrier(name);
      if (!cs) {
        attempt a;
        a.carrier = name;
        a.error_code = "unknown_carrier";
        a.error_message = "no carrier of that name in the configuration";
        a.failure = failure_class::permanent;
        res.attempts.push_back(std::move(a));
        continue;
      }
      auto st = states->get(*cs);
      const next_step next = co_await on_carrier(*cs, *st, msg, deadline, res);
      if (next == next_step::done) co_return;
      if (next == next_step::stop) break;
    }
    fill_failed(res);
  }
};

relay::relay(asio::any_io_executor ex, std::shared_ptr<carrier_states> states,
             relay_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(states), std::move(opts))) {}

relay::~relay() { impl_->stop(); }

void relay::stop() { impl_->stop(); }

asio::awaitable<relay_result> relay::async_send(const config::settings& s,
                                                std::span<const std::string> route,
                                                outbound_message msg) {
  auto self = impl_;  // keeps the state alive if the relay is destroyed meanwhile
  relay_result res;
  if (msg.message_id.empty()) {
    // The sandbox derives its carrier message id from ours, and carriers with a correlation
    // field get it: never leave it empty.
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t bits = self->random();
    msg.message_id = "relay-";
    for (int i = 0; i < 16; ++i, bits >>= 4) msg.message_id.push_back(hex[bits & 15]);
  }
  try {
    co_await self->send(s, route, msg, res);
  } catch (const std::exception& e) {
    res.status = relay_status::failed;
    res.failure = failure_class::retryable;
    res.error_code = "internal";
    res.error_message = e.what();
  }
  co_return res;
}

}  // namespace stopgate::carriers::relay
