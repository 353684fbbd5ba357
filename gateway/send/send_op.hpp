// The `send` op (SPEC section 3; docs/SEND.md): check the number as a committed `check`
// would, then relay an SMS through the sender's carrier route, with evidence before and after
// the carrier call and an optional idempotency key held in Redis.
//
//   parse -> claim idempotency key + fetch contact facts (together) -> policy engine
//     deny/defer: `decision` record -> "blocked" / "deferred"
//     allow: `send` record (durable) + message store + count the contact (together) -> relay
//            -> `carrier_result` record (durable) + message store (together) -> [opt-out]
//            -> "sent" / "failed"
//   -> store the answer under the key
//
// With "mode": "queue" an allowed or deferred message is not relayed here: a `queued` record
// (durable) + message record + the durable queue (gateway/queue/), then "queued". The queue's
// scheduler checks it again at release and relays it with async_deliver (docs/QUEUE.md).
#pragma once

#include "dnc/lists/mirror.hpp"
#include "dnc/model/facts.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/prometheus.hpp"
#include "gateway/services.hpp"
#include "gateway/send/idempotency.hpp"
#include "gateway/send/status_route.hpp"
#include "gateway/queue/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace stopgate::gateway::send {

/// The largest `body` accepted: ten concatenated GSM-7 segments (153 characters each) fit,
/// and so does anything a carrier takes in one request.
inline constexpr std::size_t max_body_bytes = 1600;
/// The most messages one `send_batch` takes, and how many of them run at once.
inline constexpr std::size_t max_batch_messages = 1000;
inline constexpr std::size_t batch_concurrency = 256;

/// Counters for `stats` and /metrics. Thread-safe.
struct send_counters {
  std::atomic<std::uint64_t> requests{0}, sent{0}, blocked{0}, deferred{0}, failed{0};
  std::atomic<std::uint64_t> replayed{0}, carrier_optouts{0}, queued{0};
};

/// One message on its way: a `send` request, or a queued message at release. Owned.
struct send_request {
  std::shared_ptr<const runtime_config> rt;
  dnc::model::phone_number to;
  std::string sender;
  std::string from;
  std::string body;
  config::purpose purpose = config::purpose::marketing;
  std::string campaign;
  std::vector<std::string> route;
  std::string idempotency_key;
  std::string message_id;
  std::string api_key;
  unsigned worker = 0;  // the worker it runs on (its connections and store)
  dnc::model::sys_time at{};  // the instant it is checked at
  bool queue = false;         // "mode": "queue"
  std::optional<dnc::model::sys_time> send_at, expires_at;
  // Set by the flow when an outcome exists even though the answer is an error (the message
  // went to a carrier but its evidence failed): stored under the idempotency key anyway.
  mutable std::optional<boost::json::object> outcome;
};

/// The check's evidence fields for `r` and its decision (to, sender, channel, purpose,
/// campaign, at, message_id, decision, reasons, lists, policy_version, ...).
boost::json::object decision_fields(const send_request& r, const dnc::policy::policy_decision& d);

/// Handles `send` requests. Thread-safe: one handler serves every worker; each request uses
/// the Redis connection, contact store and relay of the worker it names
/// (request_context::worker), so it must run on that worker's thread. Completions run on the request's executor.
class send_handler {
 public:
  /// `svc.log`, `svc.mirror` and `svc.runtime` must be set.
  explicit send_handler(services svc, idempotency_options idem = {});

  /// Enables "mode": "queue": messages go to `q`; `enqueued(worker)` is called on the
  /// request's worker after each (to wake its scheduler). Call before serving requests.
  void enable_queue(const queue::queue_store* q, std::function<void(unsigned)> enqueued);

  /// The op: fields to, from, body, sender, purpose, campaign, carrier, idempotency_key.
  /// Answers {status, message_id, reasons, retry_at?, carrier?, carrier_message_id?, error?,
  /// evidence_id?}; bad_request / invalid_number / store_unavailable / internal when no
  /// outcome was reached (nothing was sent then).
  boost::asio::awaitable<api::op_result> async_send(const boost::json::object& req,
                                                    const api::request_context& ctx);
  /// The batch form (`send_batch`): `messages` (1 to max_batch_messages objects), the
  /// request's other fields their defaults; each handled as async_send, up to
  /// batch_concurrency at once. Answers {results: [answer | {error}] in order}.
  boost::asio::awaitable<api::op_result> async_send_batch(const boost::json::object& req,
                                                          const api::request_context& ctx);

  /// Relays an allowed message: `record` (the `send` record of a sync send, the `released`
  /// record of a queued one) durable together with the message record and the contact's count,
  /// then the relay, the `carrier_result` record and the message update, and a carrier
  /// opt-out. Answers {status sent|failed, ...} as the op does; an error when nothing was sent.
  boost::asio::awaitable<api::op_result> async_deliver(const send_request& r,
                                                       boost::json::object record,
                                                       evidence::record_type type);

  /// The queue enable_queue() named, or nullptr.
  const queue::queue_store* queue() const noexcept { return queue_; }
  send_counters& counters() noexcept { return counters_; }
  const send_counters& counters() const noexcept { return counters_; }
  /// The status route's counters (add_status_route keeps them alive).
  std::shared_ptr<status_counters> status() const noexcept { return status_; }
  /// stopgate_send_* and stopgate_status_callbacks_* families for /metrics.
  std::vector<http::metric_family> metric_families() const;

 private:
  // Everything after the facts are known: policy, evidence, message store, relay.
  boost::asio::awaitable<api::op_result> run(const send_request& r,
                                             const dnc::model::number_facts& facts);
  // "mode": "queue" after an allow or a defer: `queued` record, message record, queue.
  boost::asio::awaitable<api::op_result> enqueue(const send_request& r,
                                                 const dnc::policy::policy_decision& d,
                                                 boost::json::object record);

  services svc_;
  evidence::log& log_;
  dnc::lists::list_mirror& mirror_;
  idempotency_options idem_;
  send_counters counters_;
  std::shared_ptr<status_counters> status_ = std::make_shared<status_counters>();
  const queue::queue_store* queue_ = nullptr;
  std::function<void(unsigned)> enqueued_;
};

}  // namespace stopgate::gateway::send
