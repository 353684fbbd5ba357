// GET /v1/check: one committed check for PBX scripts (Asterisk CURL(), FreeSWITCH mod_curl),
// authenticated like /v1/ops (docs/HTTP.md, docs/DIALERS.md).
//
//   GET /v1/check?to=+14155550123&sender=acme&channel=voice&tech=manual[&purpose=...]
//       [&campaign=...][&ref=...]
//
// The answer is one word of text, without a line end: `allow`, `deny:REASON,REASON` or
// `defer:RETRY_AT`, or, with `Accept: application/json`, the check's result object. The check is
// always committed (the decision is in the evidence log, with ref "http:REF"); channel defaults to
// voice. Every failure answers a text starting with `deny:` (`deny:unauthenticated`,
// `deny:bad_request`, `deny:store_unavailable`, ...) and a non-200 status, so a script that dials
// only on `allow` fails closed.
#pragma once

#include "gateway/api/auth.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/http/message.hpp"

#include <boost/asio/awaitable.hpp>

namespace stopgate::gateway::http {

/// Handles one /v1/check request. `keys` must be built from *req.settings. Never throws for
/// a bad request.
boost::asio::awaitable<response> async_handle_check(const request& req, const api::key_table& keys,
                                                    api::dispatcher& dispatch);

}  // namespace stopgate::gateway::http
