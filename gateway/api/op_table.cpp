#include "gateway/api/op_table.hpp"

#include <algorithm>
#include <array>

namespace stopgate::gateway::api {
namespace {

using enum field_type;
using config::role;

constexpr std::string_view channels[] = {"sms", "voice"};
constexpr std::string_view purposes[] = {"marketing", "informational"};
constexpr std::string_view send_modes[] = {"sync", "queue"};
constexpr std::string_view campaign_actions[] = {"status", "pause", "resume", "cancel"};
constexpr std::string_view techs[] = {"atds", "manual", "prerecorded"};
constexpr std::string_view kinds[] = {"express_written", "express", "ebr_purchase", "ebr_inquiry"};
constexpr std::string_view methods[] = {"web_form", "keyword", "verbal", "paper"};

constexpr std::string_view sender_doc =
    "The configured sender (`[senders.NAME]`) asking. May be left out when exactly one sender is "
    "configured.";

// ---- fields -------------------------------------------------------------------------------

constexpr field_def auth_fields[] = {
    {"key", string, true, "The API key (the secret, not its digest)."},
};

constexpr field_def check_fields[] = {
    {"to", numbers, true,
     "The number to check, or an array of up to `api.max_batch` (default 10,000) numbers. E.164 "
     "(`+14155550123`); a 10-digit NANP number or common punctuation (`(415) 555-0123`) is "
     "normalised."},
    {"sender", string, false, sender_doc},
    {"channel", choice, false, "How the contact would be made.", "sms", channels},
    {"purpose", choice, false,
     "`informational` messages (appointment reminders, receipts) need less consent than "
     "`marketing`; keyword opt-outs and DNC lists apply to marketing.",
     "marketing", purposes},
    {"tech", choice, false,
     "Voice only: how the call is placed (the TCPA consent level follows it: `atds` and "
     "`prerecorded` need express written consent for marketing).",
     "atds", techs},
    {"campaign", string, false,
     "The campaign the contact belongs to: frequency caps count contacts per campaign. 1-64 bytes "
     "without spaces or control characters.",
     {}, {}, {}, 64},
    {"at", time, false,
     "Evaluate the rules at this instant instead of now (planning; tests). A check with `at` is "
     "answered on its own, not in a pipelined batch.",
     "now"},
    {"commit", boolean, false,
     "`true` when the contact is about to happen (a dialer sets it just before dialling): each "
     "decision is written to the evidence log before the answer and an allowed contact counts "
     "toward frequency caps.",
     "false"},
    {"ref", string, false,
     "The caller's own reference for the contact (a SIP Call-ID, an Asterisk uniqueid, an order "
     "number), kept in committed decision records. At most 256 bytes.",
     {}, {}, {}, 256},
};

constexpr field_def send_message_fields[] = {
    {"to", number, true, "The recipient."},
    {"body", string, true, "The message text, 1 to 1,600 bytes of UTF-8.", {}, {}, {}, 1600},
    {"from", number, false, "As at the top level.", "the request's `from`"},
    {"purpose", choice, false, "As at the top level.", "the request's `purpose`", purposes},
    {"campaign", string, false, "As at the top level.", "the request's `campaign`", {}, {}, 64},
    {"carrier", string, false, "As at the top level.", "the request's `carrier`"},
    {"idempotency_key", string, false, "As at the top level, for this message.", {}, {}, {}, 128},
    {"send_at", time, false, "As at the top level.", "the request's `send_at`"},
    {"expires_at", time, false, "As at the top level.", "the request's `expires_at`"},
};

constexpr field_def send_fields[] = {
    {"to", number, true, "The recipient."},
    {"sender", string, false, sender_doc},
    {"from", number, false,
     "The sender's number to send from; one of the sender's configured `numbers`.",
     "the sender's first number"},
    {"body", string, true, "The message text, 1 to 1,600 bytes of UTF-8.", {}, {}, {}, 1600},
    {"purpose", choice, false, "As for `check`.", "marketing", purposes},
    {"campaign", string, false, "As for `check` (frequency caps).", {}, {}, {}, 64},
    {"carrier", string, false,
     "A configured carrier to use instead of the sender's `route`.", "the sender's route"},
    {"idempotency_key", string, false,
     "1-128 printable ASCII characters without spaces. A repeated key (same sender) within 24 h "
     "answers the first request's outcome and sends nothing.",
     {}, {}, {}, 128},
    {"mode", choice, false,
     "`sync`: answer once a carrier took the message (or refused it). `queue`: answer `queued` "
     "as soon as the check passed or deferred, the `queued` evidence record is on disk and the "
     "message is in the durable queue; a deferred message is held until the rules allow it and "
     "checked again when it is released (docs/QUEUE.md).",
     "`[queue] default_mode` (`sync`)", send_modes},
    {"send_at", time, false,
     "With `queue`: not before this time (RFC 3339). The check at release decides, as always.",
     "now"},
    {"expires_at", time, false,
     "With `queue`: a message not sent by this time is dropped with an `expired` record.",
     "never"},
};

constexpr field_def send_batch_fields[] = {
    {"sender", string, false, sender_doc},
    {"messages", objects, true,
     "1 to 1,000 messages, each with its own `to` and `body` and optionally its own values of the "
     "fields below; the request's fields are every message's defaults.",
     {}, {}, send_message_fields},
    {"from", number, false, "As for `send`.", "the sender's first number"},
    {"purpose", choice, false, "As for `send`.", "marketing", purposes},
    {"campaign", string, false, "As for `send`.", {}, {}, {}, 64},
    {"carrier", string, false, "As for `send`.", "the sender's route"},
    {"mode", choice, false, "As for `send`; `queue` is what bulk campaigns want.",
     "`[queue] default_mode` (`sync`)", send_modes},
    {"send_at", time, false, "As for `send`.", "now"},
    {"expires_at", time, false, "As for `send`.", "never"},
};

constexpr field_def events_fields[] = {
    {"after", string, false,
     "The cursor: the `next` of the previous answer (or the `id` of the last event handled). "
     "`\"0\"` reads from the oldest event kept (7 days).",
     "0"},
    {"max", integer, false, "At most this many events (1 to 1,000).", "500"},
    {"wait_ms", integer, false,
     "When no event is there yet, wait up to this long (0 to 30,000 ms) for one: a long poll.",
     "0"},
};

constexpr field_def campaign_fields[] = {
    {"sender", string, false, sender_doc},
    {"campaign", string, true, "The campaign's name, as given to `send`.", {}, {}, {}, 64},
    {"action", choice, false,
     "`status` changes nothing. `pause`: its queued messages wait (none is released until "
     "`resume`). `resume`: they are due again at once. `cancel`: every one not yet handed to a "
     "carrier is cancelled, each with a `cancelled` evidence record; messages queued for the "
     "campaign later are cancelled too, until `resume`.",
     "status", campaign_actions},
};

constexpr field_def consent_source[] = {
    {"method", choice, true, "How the consent was captured.", {}, methods},
    {"url", string, false, "The page of the form."},
    {"ip", string, false, "The consenting person's IP address."},
    {"user_agent", string, false, "Their browser's User-Agent."},
    {"text", string, false,
     "The disclosure shown, word for word. Required for `express_written`."},
    {"proof", string, false, "Where further proof is kept (a certificate URL, a recording id)."},
};

constexpr field_def consent_fields[] = {
    {"to", number, true, "The number that consented."},
    {"sender", string, false, sender_doc},
    {"kind", choice, true,
     "`express_written` (a signed agreement, E-SIGN counts: needed for marketing by autodialer, "
     "prerecorded voice and marketing SMS), `express`, or an established business relationship "
     "(`ebr_purchase`: 18 months, `ebr_inquiry`: 3 months).",
     {}, kinds},
    {"captured_at", time, true, "When the person agreed; not in the future (60 s of clock skew allowed)."},
    {"expires_at", time, false, "When the consent lapses; after `captured_at`.", "never"},
    {"source", object, true, "Where the consent came from (kept in the evidence record).", {}, {},
     consent_source},
};

constexpr field_def optout_source[] = {
    {"channel", string, false, "Where the opt-out came from (`phone`, `email`, `web`, `agent`, ...).",
     "api"},
    {"note", string, false, "Free text kept in the evidence record."},
};

constexpr field_def optout_fields[] = {
    {"to", number, true, "The number that opted out."},
    {"sender", string, false,
     "The sender it opted out of, or `\"*\"` for every sender (the internal DNC list). May be left "
     "out when exactly one sender is configured."},
    {"source", object, false, "Where the opt-out was received.", {}, {}, optout_source},
};

constexpr field_def to_only[] = {
    {"to", number, true, "The number."},
};

// ---- answers ------------------------------------------------------------------------------

constexpr answer_def ping_answer[] = {
    {"pong", "boolean", true, "Always `true`."},
    {"version", "string", true, "The gateway's version."},
};

constexpr answer_def auth_answer[] = {
    {"key", "string?", true, "The key's name (`null` when no keys are configured)."},
    {"roles", "array", false, "The key's roles (over `/v1/ops`, and on the socket once keys are configured)."},
};

constexpr answer_def check_answer[] = {
    {"result", "object", false,
     "For a string `to`: `{\"to\", \"decision\": \"allow\"|\"deny\"|\"defer\", \"reasons\": [...], "
     "\"retry_at\"?, \"evidence_id\"?, \"message\"?}`. `retry_at` (RFC 3339) comes with `defer`, "
     "`evidence_id` with `commit`, `message` with `invalid_number` (why the number cannot be "
     "read). Reason codes: docs/POLICY.md."},
    {"results", "array", false,
     "For an array `to`: one such object per number, in the request's order. A number that cannot "
     "be read gets its own `deny` with `invalid_number`; the batch goes on."},
};

constexpr answer_def send_batch_answer[] = {
    {"results", "array", true,
     "One answer per message, in order: the members of a `send` answer (`status`, `message_id`, "
     "`reasons`, ...), or `{\"error\": {\"code\", \"message\"}}` for a message that reached no "
     "outcome (a field error, an unreadable number, Redis unavailable: nothing was queued or sent "
     "for it; send it again)."},
};

constexpr answer_def events_answer[] = {
    {"events", "array", true,
     "Oldest first: `{\"id\", \"message_id\", \"status\", \"at\", \"campaign\"?, \"carrier\"?, "
     "\"error_code\"?}`. `status`: `queued`, `sent`, `failed`, `unknown` (never sent again), "
     "`cancelled`, `expired`, and the carriers' delivery statuses (`delivered`, `undelivered`, "
     "...). At least once: dedupe by `id`."},
    {"next", "string", true, "The cursor to pass as `after` next time (unchanged when there was no event)."},
};

constexpr answer_def campaign_answer[] = {
    {"campaign", "string", true, "Its name."},
    {"sender", "string", true, "Its sender."},
    {"state", "string", true, "`active`, `paused` or `cancelled` (after the action)."},
    {"changed", "boolean", true, "Whether the action changed the state."},
    {"in_queue", "integer", true, "Its messages in the queue now, whatever their state."},
    {"queued", "integer", true, "Of those, due or waiting for their `send_at`/rate slot."},
    {"held", "object", true,
     "Of those, held by the rules or the campaign, by reason: `{\"quiet_hours\": 12, "
     "\"campaign_paused\": 3, ...}`."},
    {"in_flight", "integer", true, "Of those, claimed by a gateway right now (being checked or relayed)."},
    {"accepted", "integer", true, "Messages ever queued for it."},
    {"sent", "integer", true, "Messages a carrier accepted."},
    {"failed", "integer", true, "Messages no carrier accepted."},
    {"unknown", "integer", true, "Messages whose outcome is unknown (never sent again)."},
    {"cancelled", "integer", true, "Messages cancelled (a check at release denied them, or the campaign was cancelled)."},
    {"expired", "integer", true, "Messages dropped at their `expires_at`."},
    {"sent_last_minute", "integer", true, "Messages sent in the last 60 seconds (its current rate)."},
};

constexpr answer_def queue_stats_answer[] = {
    {"depth", "integer", true, "Messages in the queue, every state."},
    {"states", "object", true,
     "Counts by state: `queued`, `held:REASON` (quiet_hours, frequency_cap, send_at, "
     "campaign_paused, ...), `claimed`, `submitting`, `unknown`."},
    {"oldest_due", "string?", true, "The earliest due time in the queue (RFC 3339), or null when empty."},
    {"shards", "integer", true, "How many shards the queue has on this Redis (1, or `queue.shards` on a cluster)."},
};

constexpr answer_def send_answer[] = {
    {"status", "string", true,
     "`sent` (a carrier accepted it), `blocked` (the check denied it), `deferred` (the check "
     "deferred it; send again at `retry_at`), `failed` (no carrier accepted it; `error` says why) "
     "or, with `mode` `queue`, `queued` (in the durable queue; `retry_at` when it is held)."},
    {"message_id", "string", true, "The gateway's id for the message (status callbacks and `lookup` use it)."},
    {"reasons", "array", true, "The check's reason codes (empty when allowed)."},
    {"evidence_id", "string", false, "The `send`, `queued` or `decision` record."},
    {"retry_at", "string", false,
     "With `deferred`: when the rules next allow the contact. With `queued`: when a held message "
     "is next checked for release."},
    {"carrier", "string", false, "The carrier that took (or last refused) the message."},
    {"carrier_message_id", "string", false, "The carrier's id for the message."},
    {"error", "object", false,
     "With `failed`: `{\"code\", \"message\", \"carrier_code\"?}`; `code` is `outcome_unknown` "
     "(the request may have reached the carrier: never sent again), `recipient_opted_out`, "
     "`in_progress`, `carrier_failed` or the carrier's own code."},
    {"idempotent_replay", "boolean", false, "`true` when this is the stored answer of an earlier request with the same key."},
};

constexpr answer_def consent_answer[] = {
    {"consent_id", "string", true, "The consent's id (checks cite it in their evidence)."},
    {"evidence_id", "string", true, "The `consent` evidence record."},
    {"to", "string", true, "The number, E.164."},
};

constexpr answer_def optin_answer[] = {
    {"consent_id", "string", true, "The new consent's id."},
    {"optout_lifted", "boolean", true, "Whether a sender opt-out was lifted."},
    {"message", "string", false, "Why not: an opt-out newer than this consent stays in force."},
    {"evidence_id", "string", true, "The `optin` evidence record."},
    {"to", "string", true, "The number, E.164."},
};

constexpr answer_def optout_answer[] = {
    {"evidence_id", "string", true, "The `optout` evidence record (written before the answer)."},
    {"to", "string", true, "The number, E.164."},
    {"sender", "string", true, "The sender it applies to (`*`: every sender)."},
};

constexpr answer_def lookup_answer[] = {
    {"to", "string", true, "The number, E.164."},
    {"lists", "array", true,
     "Each configured list: `{\"name\", \"reason\", \"listed\": true|false|null, \"generation\"?, "
     "\"snapshot\"?, \"loaded\"?}` (`listed` is `null` and `loaded` `false` when the list was "
     "never loaded)."},
    {"optouts", "array", true, "`{\"sender\", \"at\", \"source\", \"evidence_id\"}` each."},
    {"consents", "array", true,
     "`{\"consent_id\", \"sender\", \"kind\", \"captured_at\", \"expires_at\"?, \"evidence_id\", "
     "\"method\"}` each."},
    {"counters", "array", true, "Frequency-cap counters: `{\"campaign\", \"contacts\": [times]}` each."},
    {"time_zones", "array", false, "NANP numbers: the IANA zones the area code spans."},
    {"region", "string", false, "NANP numbers: the state, province or territory code."},
    {"country", "string", false, "NANP numbers: the ISO 3166 country code."},
    {"evidence_ids", "array", true, "Evidence records about the number, newest first."},
    {"forgotten_at", "string", false, "When a `forget` erased the number's details."},
};

constexpr answer_def forget_answer[] = {
    {"erased", "array", true, "What was erased (contact details, message records, queued replies...)."},
    {"kept", "array", true, "What was kept (the suppression, in a form that does not reveal the number)."},
    {"why", "string", true, "Why each kept item is kept."},
    {"evidence_kept", "string", true, "Why the evidence log keeps its records."},
    {"evidence_id", "string", true, "The `forget` evidence record."},
};

constexpr answer_def stats_answer[] = {
    {"checks", "integer", true, "Numbers checked."},
    {"decisions", "object", true, "`{\"allow\", \"deny\", \"defer\"}` counts."},
    {"committed", "integer", true, "Numbers checked with `commit`."},
    {"consents", "integer", true, "Consents recorded."},
    {"optouts", "integer", true, "Opt-outs recorded through the API."},
    {"optins", "integer", true, "Opt-ins recorded."},
    {"lookups", "integer", true, "Lookups answered."},
    {"forgets", "integer", true, "Forget requests done."},
    {"store_failures", "integer", true, "Operations that failed closed because Redis did not answer."},
    {"evidence_failures", "integer", true, "Operations refused because the evidence log failed."},
    {"evidence", "object", true, "`{\"records\", \"fsyncs\", \"durable_seq\", \"queue_depth\"}`."},
    {"lists", "object", true, "Per loaded list: `{\"generation\", \"count\", \"snapshot\"}`."},
    {"list_refreshes", "integer", true, "List snapshot refreshes."},
    {"metrics", "object", true, "Every family `GET /metrics` serves: `{FAMILY: {\"type\", \"help\", \"samples\"}}` (docs/METRICS.md)."},
};

// ---- errors -------------------------------------------------------------------------------

constexpr api_errc check_errors[] = {api_errc::bad_request, api_errc::batch_too_large,
                                     api_errc::store_unavailable, api_errc::internal};
constexpr api_errc send_errors[] = {api_errc::bad_request, api_errc::invalid_number,
                                    api_errc::overloaded, api_errc::store_unavailable,
                                    api_errc::internal};
constexpr api_errc write_errors[] = {api_errc::bad_request, api_errc::invalid_number,
                                     api_errc::store_unavailable, api_errc::internal};
constexpr api_errc read_errors[] = {api_errc::bad_request, api_errc::invalid_number,
                                    api_errc::store_unavailable};
constexpr api_errc auth_errors[] = {api_errc::unauthenticated};
constexpr api_errc queue_errors[] = {api_errc::bad_request, api_errc::store_unavailable};

// ---- the table ----------------------------------------------------------------------------

constexpr op_def table[] = {
    {op_id::ping, "ping", std::nullopt, true, "Is the gateway there?",
     "Answered by the transport at once (after `auth` when keys are configured).",
     {}, ping_answer, {},
     R"({"op":"ping","id":1})",
     R"({"id":1,"ok":true,"pong":true,"version":"0.1.0"})"},
    {op_id::auth, "auth", std::nullopt, true, "Authenticate a connection.",
     "When API keys are configured (`[[api_keys]]`), the first request on a socket-API "
     "connection must be `auth`; anything else, or a wrong key, is answered `unauthenticated` and "
     "the connection is closed. A later `auth` switches keys. Over HTTP (`/v1/ops`, key in "
     "`Authorization: Bearer`) it reports who the key is.",
     auth_fields, auth_answer, auth_errors,
     R"({"op":"auth","id":1,"key":"sg_Qm9vc3QgaXMgbmljZQ..."})",
     R"({"id":1,"ok":true,"key":"crm","roles":["check","send"]})"},
    {op_id::check, "check", role::check, false, "May we contact these numbers now?",
     "Runs the rules (opt-outs, DNC lists, consent, calling window, frequency caps; "
     "docs/POLICY.md) for one number or a batch. Nothing is written unless `commit` is `true`. "
     "When Redis does not answer, marketing checks fail closed (`deny`, `store_unavailable`).",
     check_fields, check_answer, check_errors,
     R"({"op":"check","id":7,"to":"(212) 555-2671","sender":"acme","channel":"voice","purpose":"marketing","tech":"manual","campaign":"spring","at":"2026-12-02T17:00:00Z","commit":true,"ref":"call-8841"})",
     R"({"id":7,"ok":true,"result":{"to":"+12125552671","decision":"allow","reasons":[],"evidence_id":"gw1-1042"}})",
     /*batchable=*/true},
    {op_id::send, "send", role::send, false, "Check, then relay an SMS to a carrier.",
     "Checks the number as a committed `check` would, writes the decision (or the `send` record) "
     "to the evidence log, then relays the message along the sender's carrier route and answers "
     "once the outcome is known (`mode` `sync`). With `mode` `queue` it answers `queued` as soon "
     "as the message is in the durable queue; the queue holds it until the rules allow it, checks "
     "it again then and relays it at the carriers' rates (docs/QUEUE.md). docs/SEND.md has "
     "statuses, retries and delivery callbacks.",
     send_fields, send_answer, send_errors,
     R"({"op":"send","id":8,"to":"+12125552671","sender":"acme","from":"+14155552000","body":"Spring sale: 20% off today. Reply STOP to opt out.","purpose":"marketing","campaign":"spring","carrier":"sandbox","idempotency_key":"order-17"})",
     R"({"id":8,"ok":true,"status":"sent","message_id":"msg_3f2a9c","reasons":[],"evidence_id":"gw1-1043","carrier":"sandbox","carrier_message_id":"sandbox-msg_3f2a9c"})"},
    {op_id::consent, "consent", role::consent, false, "Record that a person agreed to be contacted.",
     "Written to the evidence log first (a consent is in effect only once it is provable), then "
     "to the contact store. A consent does not lift an opt-out: use `optin` for that.",
     consent_fields, consent_answer, write_errors,
     R"({"op":"consent","id":9,"to":"+12125552671","sender":"acme","kind":"express_written","captured_at":"2026-11-01T10:00:00Z","expires_at":"2027-11-01T10:00:00Z","source":{"method":"web_form","url":"https://acme.example/join","ip":"203.0.113.7","user_agent":"Mozilla/5.0","text":"I agree to receive marketing texts from Acme.","proof":"https://cert.example/abc"}})",
     R"({"id":9,"ok":true,"consent_id":"c_5b1e","evidence_id":"gw1-1044","to":"+12125552671"})"},
    {op_id::optout, "optout", role::consent, false, "Record an opt-out received outside SMS.",
     "A phone call, an e-mail, a web form or an agent. In force from the answer on: every "
     "gateway sharing the Redis sees it at once. With `redis.min_replica_acks` the answer waits "
     "for the replicas (docs/REDIS.md).",
     optout_fields, optout_answer, write_errors,
     R"({"op":"optout","id":10,"to":"+12125552671","sender":"acme","source":{"channel":"phone","note":"asked the agent to stop calling"}})",
     R"({"id":10,"ok":true,"evidence_id":"gw1-1045","to":"+12125552671","sender":"acme"})"},
    {op_id::optin, "optin", role::consent, false, "Lift a sender's opt-out with fresh consent.",
     "Records the consent as `consent` does and lifts the sender's opt-out, unless an opt-out "
     "newer than `captured_at` exists (then it stays, and `message` says so).",
     consent_fields, optin_answer, write_errors,
     R"({"op":"optin","id":11,"to":"+12125552671","sender":"acme","kind":"express_written","captured_at":"2026-11-02T10:00:00Z","source":{"method":"keyword","text":"Reply START to resume Acme offers"}})",
     R"({"id":11,"ok":true,"consent_id":"c_77a0","optout_lifted":true,"evidence_id":"gw1-1046","to":"+12125552671"})"},
    {op_id::lookup, "lookup", role::check, false, "Everything held about a number.",
     "Lists it is on, opt-outs, consents, frequency counters, time zones and region, and the ids "
     "of its evidence records (for `stopgatectl evidence show`).",
     to_only, lookup_answer, read_errors,
     R"({"op":"lookup","id":12,"to":"+12125552671"})",
     R"({"id":12,"ok":true,"to":"+12125552671","lists":[{"name":"internal","reason":"internal_dnc","listed":false,"generation":3,"snapshot":"2026-12-01"}],"optouts":[],"consents":[],"counters":[],"time_zones":["America/New_York"],"region":"NY","country":"US","evidence_ids":["gw1-1044"]})"},
    {op_id::forget, "forget", role::admin, false, "A data-subject deletion request.",
     "Erases consent details, message bodies and records, idempotency answers' text and queued "
     "replies for the number; keeps the suppression (as required to honour it) in a form that "
     "does not reveal the number. Repeat it after a `store_unavailable` answer.",
     to_only, forget_answer, read_errors,
     R"({"op":"forget","id":13,"to":"+12125552671"})",
     R"({"id":13,"ok":true,"erased":["consent:c_5b1e"],"kept":["optout:acme"],"why":"...","evidence_kept":"...","evidence_id":"gw1-1047"})"},
    {op_id::stats, "stats", role::admin, false, "Counters (the same as /metrics).",
     "The ops' counters and, under `metrics`, every family `GET /metrics` serves.",
     {}, stats_answer, {},
     R"({"op":"stats","id":14})",
     R"({"id":14,"ok":true,"checks":1042,"decisions":{"allow":900,"deny":130,"defer":12},"committed":40,"consents":12,"optouts":3,"optins":1,"lookups":2,"forgets":0,"store_failures":0,"evidence_failures":0,"evidence":{"records":60,"fsyncs":58,"durable_seq":60,"queue_depth":0},"lists":{},"list_refreshes":4,"metrics":{}})"},
    {op_id::send_batch, "send_batch", role::send, false, "Many `send`s in one request.",
     "The batch form of `send` for bulk campaigns: each message is handled as a `send` of its own "
     "(its own check, evidence records and idempotency key), concurrently, and the answer lists "
     "their outcomes in order. With `mode` `queue` the answer comes once every message is in the "
     "durable queue (docs/QUEUE.md).",
     send_batch_fields, send_batch_answer, send_errors,
     R"({"op":"send_batch","id":17,"sender":"acme","mode":"queue","campaign":"spring","purpose":"marketing","messages":[{"to":"+12125552671","body":"Spring sale: 20% off today. Reply STOP to opt out."},{"to":"+12125552672","body":"Spring sale: 20% off today. Reply STOP to opt out.","idempotency_key":"spring-2"}]})",
     R"({"id":17,"ok":true,"results":[{"status":"queued","message_id":"msg_1a2b","reasons":[],"evidence_id":"gw1-2001"},{"status":"blocked","message_id":"msg_1a2c","reasons":["optout"],"evidence_id":"gw1-2002"}]})"},
    {op_id::events, "events", role::send, false, "Status events of this key's messages.",
     "Every step of the life of the messages this API key sent (queued, sent, failed, cancelled, "
     "expired, delivered, ...), from a cursor the client keeps: call it in a loop with `after` set "
     "to the last `next` (with `wait_ms` it waits for the next event). The events are kept in "
     "Redis for 7 days, so they survive a gateway restart and any gateway serves them "
     "(docs/QUEUE.md).",
     events_fields, events_answer, queue_errors,
     R"({"op":"events","id":18,"after":"0","max":100,"wait_ms":0})",
     R"({"id":18,"ok":true,"events":[{"id":"1764860000000-0","message_id":"msg_1a2b","status":"queued","at":"2026-12-04T15:33:20Z","campaign":"spring"}],"next":"1764860000000-0"})"},
    {op_id::campaign, "campaign", role::send, false, "Pause, resume, cancel or look at a campaign.",
     "Controls the queued messages of one campaign (`send` with `mode` `queue` and `campaign`) "
     "across every gateway sharing the Redis, and reports where they are (docs/QUEUE.md).",
     campaign_fields, campaign_answer, queue_errors,
     R"({"op":"campaign","id":15,"sender":"acme","campaign":"spring","action":"pause"})",
     R"({"id":15,"ok":true,"campaign":"spring","sender":"acme","state":"paused","changed":true,"in_queue":1200,"queued":900,"held":{"quiet_hours":300},"in_flight":0,"accepted":5000,"sent":3790,"failed":6,"unknown":0,"cancelled":4,"expired":0,"sent_last_minute":610})"},
    {op_id::queue_stats, "queue_stats", role::send, false, "What the durable queue holds.",
     "Counts of the queue's messages by state and hold reason, and its earliest due time. Reads "
     "every message's state: meant for operators and dashboards, not for every request "
     "(`/metrics` has the same figures, sampled every few seconds).",
     {}, queue_stats_answer, queue_errors,
     R"({"op":"queue_stats","id":16})",
     R"({"id":16,"ok":true,"depth":1200,"states":{"queued":900,"held:quiet_hours":300},"oldest_due":"2026-12-02T13:00:00Z","shards":1})"},
};

bool defined(std::span<const field_def> fields, std::string_view key) {
  return std::any_of(fields.begin(), fields.end(), [&](const field_def& f) { return f.name == key; });
}

std::string field_list(std::span<const field_def> fields) {
  if (fields.empty()) return "no fields";
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

}  // namespace

std::span<const op_def> op_table() noexcept {
  return table;
}

const op_def* find_op_def(std::string_view name) noexcept {
  for (const auto& op : table)
    if (op.name == name) return &op;
  return nullptr;
}

std::optional<std::string> unknown_field(const op_def& op, const boost::json::object& req) {
  for (const auto& [key, value] : req) {
    const std::string_view k = key;
    if (k == envelope_fields[0] || k == envelope_fields[1] || k.starts_with(extension_prefix)) continue;
    const auto f = std::find_if(op.fields.begin(), op.fields.end(),
                                [&](const field_def& d) { return d.name == k; });
    if (f == op.fields.end())
      return "unknown field '" + std::string(k.substr(0, 64)) + "' (" + std::string(op.name) +
             " takes: " + field_list(op.fields) + ")";
    auto check_members = [&](const boost::json::object& o,
                             const std::string& where) -> std::optional<std::string> {
      for (const auto& member : o) {
        if (defined(f->members, member.key()) || member.key().starts_with(extension_prefix)) continue;
        return "unknown field '" + where + "." + std::string(member.key().substr(0, 64)) + "' (" +
               std::string(k) + " takes: " + field_list(f->members) + ")";
      }
      return std::nullopt;
    };
    if (f->type == field_type::object && value.is_object()) {
      if (auto m = check_members(value.get_object(), std::string(k))) return m;
    } else if (f->type == field_type::objects && value.is_array()) {
      const auto& a = value.get_array();
      for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].is_object())
          if (auto m = check_members(a[i].get_object(), std::string(k) + "[" + std::to_string(i) + "]"))
            return m;
    }
  }
  return std::nullopt;
}

std::string_view to_string(field_type t) noexcept {
  switch (t) {
    case field_type::string: return "string";
    case field_type::number: return "phone number";
    case field_type::numbers: return "phone number or array";
    case field_type::boolean: return "boolean";
    case field_type::time: return "RFC 3339 time";
    case field_type::choice: return "string (one of)";
    case field_type::object: return "object";
    case field_type::objects: return "array of objects";
    case field_type::integer: return "integer";
  }
  return "string";
}

}  // namespace stopgate::gateway::api
