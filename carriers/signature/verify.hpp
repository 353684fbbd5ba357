// One entry point for webhook signature verification: the webhook routes call this with the
// carrier's settings and never name a scheme; each carrier's row (carriers/dialect.hpp) picks
// its scheme and secrets. docs/SIGNATURES.md has each scheme.
#pragma once

#include "carriers/signature/webhook_request.hpp"
#include "carriers/vonage/signature.hpp"
#include "config/settings.hpp"

#include <chrono>

namespace stopgate::carriers::signature {

/// Verifies `req` with the scheme of `c.type` and the secrets in `c.credentials`:
/// twilio (auth token), telnyx (public key, replay window), bandwidth (webhook basic auth),
/// vonage (a Bearer JWT when the request carries one, else the signed-request `sig`), plivo
/// (V3, else V2), sinch (webhook secret), http and sandbox (X-Stopgate-Signature with the
/// webhook secret). A carrier with no webhook secret configured fails with bad_key, except
/// the sandbox, whose unsigned webhooks pass from loopback peers only (`loopback_peer`).
/// Pure; thread-safe.
/// The signed-request digest named by the config's `signature_method`. Pure.
vonage_sig_method to_vonage_sig_method(config::vonage_signature_method m);

verify_result verify_webhook(const config::carrier_settings& c, const webhook_request& req,
                             std::chrono::system_clock::time_point now, bool loopback_peer,
                             std::chrono::seconds window = default_replay_window);

}  // namespace stopgate::carriers::signature
