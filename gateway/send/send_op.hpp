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
#pragma once

#include "dnc/lists/mirror.hpp"
#include "dnc/model/facts.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/prometheus.hpp"
#include "gateway/services.hpp"
#include "gateway/send/idempotency.hpp"
#include "gateway/send/status_route.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace stopgate::gateway::send {

/// The largest `body` accepted: ten concatenated GSM-7 segments (153 characters each) fit,
/// and so does anything a carrier takes in one request.
inline constexpr std::size_t max_body_bytes = 1600;

/// Counters for `stats` and /metrics. Thread-safe.
struct send_counters {
  std::atomic<std::uint64_t> requests{0}, sent{0}, blocked{0}, deferred{0}, failed{0};
  std::atomic<std::uint64_t> replayed{0}, carrier_optouts{0};
};

/// Handles `send` requests. Thread-safe: one handler serves every worker; each request uses
/// the Redis connection, contact store and relay of the worker it names
/// (request_context::worker), so it must run on that worker's thread. Completions run on the request's executor.
class send_handler {
 public:
  /// `svc.log`, `svc.mirror` and `svc.runtime` must be set.
  explicit send_handler(services svc, idempotency_options idem = {});

  /// The op: fields to, from, body, sender, purpose, campaign, carrier, idempotency_key.
  /// Answers {status, message_id, reasons, retry_at?, carrier?, carrier_message_id?, error?,
  /// evidence_id?}; bad_request / invalid_number / store_unavailable / internal when no
  /// outcome was reached (nothing was sent then).
  boost::asio::awaitable<api::op_result> async_send(const boost::json::object& req,
                                                    const api::request_context& ctx);

  const send_counters& counters() const noexcept { return counters_; }
  /// The status route's counters (add_status_route keeps them alive).
  std::shared_ptr<status_counters> status() const noexcept { return status_; }
  /// stopgate_send_* and stopgate_status_callbacks_* families for /metrics.
  std::vector<http::metric_family> metric_families() const;

 private:
  struct request;
  // Everything after the facts are known: policy, evidence, message store, relay.
  boost::asio::awaitable<api::op_result> run(const request& r,
                                             const dnc::model::number_facts& facts);

  services svc_;
  evidence::log& log_;
  dnc::lists::list_mirror& mirror_;
  idempotency_options idem_;
  send_counters counters_;
  std::shared_ptr<status_counters> status_ = std::make_shared<status_counters>();
};

}  // namespace stopgate::gateway::send
