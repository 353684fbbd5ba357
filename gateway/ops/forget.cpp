// `forget`: a data-subject deletion request across the contact store, message records, idempotency answers and queued replies.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "gateway/send/idempotency.hpp"
#include "gateway/send/message_store.hpp"
#include "gateway/send/send_op.hpp"
#include "gateway/webhooks/inbound_store.hpp"
#include "gateway/worker.hpp"

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

namespace {

constexpr std::string_view forget_why_gateway =
    " Outside the contact store, the records of messages sent to the number are erased, the "
    "answers stored for the idempotency keys of those sends lose their free text (they keep "
    "their status, so a repeat still sends nothing), and replies queued to the number that "
    "have not gone out are cancelled, with its 24-hour confirmation markers; queued sends to it that no carrier has been asked to take yet leave the queue.";

/// Every record about the number outside the contact store and the evidence log: message
/// records, idempotency answers, queued replies. Appends what it erased to `erased`.
asio::awaitable<error_code> forget_elsewhere(worker& w, const config::settings& s,
                                             const queue::queue_store* queue,
                                             dnc::model::phone_number n, json::array& erased) {
  send::message_store messages(*w.redis);
  auto m = co_await messages.async_forget(w.contacts->pseudonyms().tag(n));
  if (!m) co_return m.error();
  for (auto& id : m->message_ids) {
    erased.emplace_back("message:" + id);
    // A queued message not yet handed to a carrier leaves the queue with its body; one being
    // relayed right now finishes (its record is gone already).
    if (!queue) continue;
    auto q = co_await queue->async_remove(*w.redis, id);
    if (!q) co_return q.error();
    if (q->what == queue::queue_store::removal::kind::removed)
      erased.emplace_back("queued_message:" + id);
  }
  send::idempotency idem(*w.redis);
  for (auto& [sender, key] : m->idempotency_keys) {
    auto scrubbed = co_await idem.async_scrub(sender, key);
    if (!scrubbed) co_return scrubbed.error();
    if (*scrubbed) erased.emplace_back("idempotency_answer_text:" + sender + ":" + key);
  }
  std::vector<std::string> senders;
  for (const auto& snd : s.senders) senders.push_back(snd.name);
  auto replies = co_await webhooks::async_forget_number(*w.redis, webhooks::home_of(*w.contacts, n),
                                                        n.e164(), senders);
  if (!replies) co_return replies.error();
  for (auto& id : *replies) erased.emplace_back("queued_reply:" + id);
  co_return error_code{};
}

}  // namespace

asio::awaitable<op_result> ops::forget(const json::object& req, const api::request_context& ctx) {
  auto rt = svc_.runtime();
  fields f(req);
  const auto to = read_to(f);
  if (!to) co_return fail(to.error());
  if (!f.ok()) co_return f.failure();
  const auto at = now_us();
  worker& w = svc_.on(ctx.worker);
  auto* st = store(ctx);
  if (!st || !w.redis) co_return store_down();
  auto r = co_await st->async_forget(*to, at);
  if (!r) {
    ++counters_.store_failures;
    co_return fail(api_errc::store_unavailable, "the contact store did not answer: " + r.error().message());
  }
  json::array erased, kept;
  for (auto& e : r->erased) erased.emplace_back(e);
  for (auto& k : r->kept) kept.emplace_back(k);
  if (auto ec = co_await forget_elsewhere(w, *rt->settings, send_->queue(), *to, erased)) {
    // The contact store part is done; repeating the request finishes the rest.
    ++counters_.store_failures;
    co_return fail(api_errc::store_unavailable,
                   "message records or queued replies could not be erased (send forget again): " +
                       ec.message());
  }
  json::object rec{
      {"to", to->e164()}, {"at", format_rfc3339(at)}, {"erased", erased}, {"kept", kept}};
  auto ev = co_await log_.async_append(evidence::record_type::forget, std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    co_return fail(api_errc::internal, "erased, but the evidence log could not record it: " + ev.error().message());
  }
  ++counters_.forgets;
  json::object out{
      {"erased", std::move(erased)},
      {"kept", std::move(kept)},
      {"why", r->why + std::string(forget_why_gateway)},
      {"evidence_kept",
       "evidence records are append-only and hash-chained; they are kept for the retention period "
       "(evidence.retention_days) as proof of consent and opt-out handling"},
      {"evidence_id", ev->id}};
  co_return out;
}

}  // namespace stopgate::gateway
