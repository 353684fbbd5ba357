// POST /v1/status/{carrier}: delivery-status callbacks (SPEC section 4; docs/SEND.md,
// "Status callbacks"). {carrier} is the carrier's config name.
//
//   verify signature (403, nothing changed) -> parse (ignored event: 200; bad: 400)
//   -> dedupe on (carrier, carrier_message_id, status) (already applied: 200)
//   -> `status` evidence record (durable) -> message status in Redis
//   -> recipient_opted_out: `optout` evidence + opt-out in the contact store
//   -> 200; 503 when Redis or the evidence log could not make it durable (the carrier retries)
#pragma once

#include "gateway/evidence/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/services.hpp"

#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace stopgate::gateway::send {

/// Counters of the status route, for /metrics. Thread-safe.
struct status_counters {
  std::atomic<std::uint64_t> applied{0}, duplicates{0}, rejected_signature{0}, bad_request{0};
  std::atomic<std::uint64_t> ignored{0}, unavailable{0}, optouts{0};
};

/// Adds the route to `server` (before server.start()). `svc.log` and the workers must outlive
/// the server; the route keeps `counters` alive. A request uses the Redis connection and
/// contact store of the worker it runs on (`svc.workers`, in the server's loop order).
boost::system::error_code add_status_route(http::http_server& server, services svc,
                                           std::shared_ptr<status_counters> counters);

}  // namespace stopgate::gateway::send
