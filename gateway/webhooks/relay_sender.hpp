// The gateway's reply_sender: hands a reply to this worker's carrier relay with the route
// {the carrier the inbound message came in on}. Policy checks are bypassed on purpose: the
// consumer has just opted out, and the one confirmation is what rules.md 1.3 allows.
#pragma once

#include "gateway/webhooks/reply.hpp"

namespace stopgate::gateway::webhooks {

/// Sends with the given worker's relay (on that worker's thread).
reply_sender relay_sender();

}  // namespace stopgate::gateway::webhooks
