#include "gateway/webhooks/inbound_store.hpp"

#include "carriers/signature/crypto.hpp"
#include "dnc/contacts/error.hpp"
#include "dnc/contacts/keys.hpp"
#include "redis/pipeline.hpp"
#include "redis/script.hpp"
#include "redis/slot.hpp"

#include <array>
#include <atomic>
#include <charconv>

namespace stopgate::gateway::webhooks {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;

// The keys of one home: "{sg:in}:" at the default home, "{c:sN}:in:" at a slot's.
std::string prefix(std::string_view home) {
  std::string p = "{";
  p += home;
  p += home == default_home ? "}:" : "}:in:";
  return p;
}

// One home's reply queue.
struct queue_keys {
  std::string queue;    // zset: item id -> due (unix ms)
  std::string items;    // hash: item id -> payload JSON
  std::string sending;  // set: ids handed to a drainer
  explicit queue_keys(std::string_view home)
      : queue(prefix(home) + "q"), items(prefix(home) + "items"), sending(prefix(home) + "sending") {}
};

// Cluster only: zset home -> earliest due (unix ms) of the slot queues that hold items.
constexpr std::string_view index_key = "{sg:in}:due";
// Homes a drainer visits per claim round, besides the default one.
constexpr std::string_view homes_per_round = "64";

// KEYS: message key. ARGV: token, ttl ms. 0 claimed, 1 in progress, 2 done.
constexpr std::string_view claim_lua = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur == 'done' then return 2 end
if cur then return 1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
)lua";

// KEYS: message key. ARGV: token.
constexpr std::string_view release_lua = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS: message key, queue, items, marker. ARGV: done ttl ms, item id, due ms, payload,
// marker ttl ms (0: no marker), max queue. Returns an enqueue_state.
constexpr std::string_view finish_lua = R"lua(
if redis.call('GET', KEYS[1]) == 'done' then return 4 end
local res = 0
if ARGV[4] ~= '' then
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
    res = 3
  else
    local ok = true
    if tonumber(ARGV[5]) > 0 then
      ok = redis.call('SET', KEYS[4], ARGV[2], 'NX', 'PX', ARGV[5])
    end
    if ok then
      redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
      redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
      res = 1
    else
      res = 2
    end
  end
end
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1])
return res
)lua";

// KEYS: queue, items, sending. ARGV: now ms, limit, lease ms.
// Returns id, payload, was_sending (0/1) triples, then the queue's earliest due time after
// the claim ('' when it is empty).
constexpr std::string_view claim_due_lua = R"lua(
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if not v then
    redis.call('ZREM', KEYS[1], id)
    redis.call('SREM', KEYS[3], id)
  else
    local was = redis.call('SADD', KEYS[3], id) == 0 and 1 or 0
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
    out[#out + 1] = id
    out[#out + 1] = v
    out[#out + 1] = was
  end
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
out[#out + 1] = head[2] or ''
return out
)lua";

// KEYS: queue, items, sending. ARGV: id, mode ('done' / 'retry'), due ms.
// Returns the items left in the queue.
constexpr std::string_view report_lua = R"lua(
redis.call('SREM', KEYS[3], ARGV[1])
if ARGV[2] == 'retry' then
  if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
else
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
)lua";

const redis::script& claim_script() {
  static const redis::script s(claim_lua);
  return s;
}
const redis::script& release_script() {
  static const redis::script s(release_lua);
  return s;
}
const redis::script& finish_script() {
  static const redis::script s(finish_lua);
  return s;
}
const redis::script& claim_due_script() {
  static const redis::script s(claim_due_lua);
  return s;
}
const redis::script& report_script() {
  static const redis::script s(report_lua);
  return s;
}

std::string hex_sha256(std::string_view a, std::string_view b, std::string_view c) {
  std::string in;
  in.reserve(a.size() + b.size() + c.size() + 3);
  for (auto part : {a, b, c}) {
    in.append(part);
    in.push_back('\0');
  }
  return carriers::signature::hex_encode(
      carriers::signature::digest(carriers::signature::digest_alg::sha256, in));
}

std::string decimal(std::int64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// Error replies are this store's failure.
asio::awaitable<result<redis::reply>> eval(redis::client& c, const redis::script& s,
                                           std::span<const std::string_view> keys,
                                           std::span<const std::string_view> args) {
  auto r = co_await redis::async_eval(c, s, keys, args);
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(dnc::contacts::contact_errc::redis_error);
  co_return std::move(*r);
}

// Set once a server refused SET ... NX ... GET as a syntax error (Redis < 7.0): claims use the
// script from then on.
std::atomic<bool> native_claim_refused{false};

// The old value SET ... GET returned: none (we set it), "done", or another delivery's token.
result<claim_state> claim_from_old_value(const redis::reply& r) {
  if (r.kind == redis::reply::type::nil) return claim_state::claimed;
  if (r.kind != redis::reply::type::string)
    return make_error_code(dnc::contacts::contact_errc::bad_data);
  return r.str == "done" ? claim_state::done : claim_state::in_progress;
}

result<enqueue_state> to_enqueue_state(const redis::reply& r) {
  if (r.kind != redis::reply::type::integer || r.integer < 0 || r.integer > 4)
    return make_error_code(dnc::contacts::contact_errc::bad_data);
  return static_cast<enqueue_state>(r.integer);
}

}  // namespace

std::string home_of(const dnc::contacts::contact_store& contacts,
                    const std::optional<dnc::model::phone_number>& from) {
  // The same test as the drainers' (a cluster client), so a reply is never queued at a home
  // they do not look at.
  if (!from || !contacts.client().is_cluster()) return std::string(default_home);
  const std::string tag = contacts.pseudonyms().tag(*from);
  return std::string(dnc::contacts::contact_keys::slot_tag(redis::key_slot(tag)));
}

std::string message_key(std::string_view home, std::string_view carrier, std::string_view to,
                        std::string_view carrier_message_id) {
  return prefix(home) + "id:" + hex_sha256(carrier, to, carrier_message_id);
}

std::string marker_key(std::string_view home, std::string_view number, std::string_view sender) {
  return prefix(home) + "m:" + hex_sha256("confirmation", number, sender);
}

asio::awaitable<result<claim_state>> inbound_store::async_claim(redis::client& c,
                                                                std::string_view key,
                                                                std::string_view token) const {
  const std::string ttl = decimal(opts_.claim_ttl.count());
  // One native command (Redis >= 7.0 accepts NX with GET): the old value comes back, nil when
  // the key was absent and is now ours. Older servers refuse the combination; the script does
  // the same there.
  if (opts_.native_claim && !native_claim_refused.load(std::memory_order_relaxed)) {
    auto r = co_await c.async_exec({"SET", key, token, "NX", "PX", ttl, "GET"});
    if (!r) co_return r.error();
    if (!r->is_error()) co_return claim_from_old_value(*r);
    // Only the refusal of the syntax switches; any other error (OOM, LOADING, ...) is this
    // claim's failure.
    if (!r->str.starts_with("ERR syntax"))
      co_return make_error_code(dnc::contacts::contact_errc::redis_error);
    native_claim_refused.store(true, std::memory_order_relaxed);
  }
  const std::string_view keys[] = {key};
  const std::string_view args[] = {token, ttl};
  auto r = co_await eval(c, claim_script(), keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::integer || r->integer < 0 || r->integer > 2)
    co_return make_error_code(dnc::contacts::contact_errc::bad_data);
  co_return r->integer == 0 ? claim_state::claimed
  : r->integer == 1         ? claim_state::in_progress
                            : claim_state::done;
}

asio::awaitable<error_code> inbound_store::async_release(redis::client& c, std::string_view key,
                                                         std::string_view token) const {
  const std::string_view keys[] = {key};
  const std::string_view args[] = {token};
  auto r = co_await eval(c, release_script(), keys, args);
  co_return r ? error_code{} : r.error();
}

// The finish script's keys and args (views into this struct's own strings and the reply).
struct inbound_store::finish_call {
  std::string done_ttl, due, marker_ttl, max;
  queue_keys queue;
  std::string no_marker;
  std::array<std::string_view, 4> keys;
  std::array<std::string_view, 6> args;

  finish_call(const inbound_store_options& o, std::string_view home, std::string_view key,
              const reply_to_queue& q)
      : done_ttl(decimal(o.done_ttl.count())),
        due(decimal(q.due_ms)),
        marker_ttl(decimal(q.marker.empty() ? 0 : o.marker_ttl.count())),
        max(decimal(std::int64_t(o.max_queue))),
        queue(home),
        // Without a marker the fourth key is only a placeholder in the same slot (never written).
        no_marker(prefix(home) + "m:none") {
    keys = {key, queue.queue, queue.items,
            q.marker.empty() ? std::string_view(no_marker) : std::string_view(q.marker)};
    args = {done_ttl, q.id, due, q.payload, marker_ttl, max};
  }
  finish_call(const finish_call&) = delete;
};

namespace {

// A reply about to be queued at a slot's home is listed in the index first (LT: an earlier due
// time wins), so a drainer finds that queue. Listed before it is queued: a failure here queues
// nothing, and an entry whose reply never came is dropped by the next drainer that looks.
asio::awaitable<error_code> list_home(redis::client& c, std::string_view home,
                                      std::int64_t due_ms) {
  if (home == default_home) co_return error_code{};
  const std::string due = decimal(due_ms);
  auto r = co_await c.async_exec({"ZADD", index_key, "LT", due, home});
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(dnc::contacts::contact_errc::redis_error);
  co_return error_code{};
}

}  // namespace

asio::awaitable<result<enqueue_state>> inbound_store::async_finish(redis::client& c,
                                                                   std::string_view home,
                                                                   std::string_view key,
                                                                   const reply_to_queue& q) const {
  if (!q.payload.empty())
    if (auto ec = co_await list_home(c, home, q.due_ms)) co_return ec;
  const finish_call f(opts_, home, key, q);
  auto r = co_await eval(c, finish_script(), f.keys, f.args);
  if (!r) co_return r.error();
  co_return to_enqueue_state(*r);
}

asio::awaitable<result<enqueue_state>> inbound_store::async_finish_optout(
    dnc::contacts::contact_store& contacts, dnc::model::phone_number from, std::string_view scope,
    dnc::model::sys_time at, std::string_view source, std::string_view evidence_id,
    std::string_view home, std::string_view key, const reply_to_queue& q) const {
  static const dnc::contacts::optout_followup then_finish(finish_lua);
  if (!q.payload.empty())
    if (auto ec = co_await list_home(contacts.client(), home, q.due_ms)) co_return ec;
  const finish_call f(opts_, home, key, q);
  auto r = co_await contacts.async_record_optout_then(from, scope, at, source, evidence_id,
                                                      then_finish, f.keys, f.args);
  if (!r) co_return r.error();
  co_return to_enqueue_state(*r);
}

namespace {

// Claims up to `limit` due items of one home into `out`. Returns the queue's earliest due time
// after the claim ("" = empty).
asio::awaitable<result<std::string>> claim_from(redis::client& c, std::string_view home,
                                                std::int64_t now_ms, std::size_t limit,
                                                std::chrono::milliseconds lease,
                                                std::vector<claimed_reply>& out) {
  const std::string now = decimal(now_ms), lim = decimal(std::int64_t(limit)),
                    lease_ms = decimal(lease.count());
  const queue_keys q(home);
  const std::string_view keys[] = {q.queue, q.items, q.sending};
  const std::string_view args[] = {now, lim, lease_ms};
  auto r = co_await eval(c, claim_due_script(), keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::array || r->elements.size() % 3 != 1)
    co_return make_error_code(dnc::contacts::contact_errc::bad_data);
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 3)
    out.push_back({std::string(home), std::move(r->elements[i].str),
                   std::move(r->elements[i + 1].str), r->elements[i + 2].integer == 1});
  co_return std::move(r->elements.back().str);
}

}  // namespace

asio::awaitable<result<std::vector<claimed_reply>>> inbound_store::async_claim_due(
    redis::client& c, std::int64_t now_ms, std::size_t limit) const {
  std::vector<claimed_reply> out;
  auto head = co_await claim_from(c, default_home, now_ms, limit, opts_.lease, out);
  if (!head) co_return head.error();
  if (!c.is_cluster() || out.size() >= limit) co_return out;
  // A cluster: the slot queues the index says are due.
  const std::string now = decimal(now_ms);
  auto homes = co_await c.async_exec(
      {"ZRANGEBYSCORE", index_key, "-inf", now, "LIMIT", "0", homes_per_round});
  if (!homes || homes->kind != redis::reply::type::array) co_return out;
  // Each visited home's entry follows its queue (its new earliest due time, or gone when
  // empty), all in one pipeline to the index's node at the end. A webhook filling a queue
  // right now may race with this; async_sweep repairs that.
  redis::pipeline index;
  for (auto& h : homes->elements) {
    if (out.size() >= limit) break;
    const std::string& home = h.str;
    auto next = co_await claim_from(c, home, now_ms, limit - out.size(), opts_.lease, out);
    // Items already claimed are returned whatever happens next: they are leased to us.
    if (!next) break;
    if (next->empty())
      index.add({"ZREM", index_key, home});
    else
      index.add({"ZADD", index_key, *next, home});
  }
  if (index.size() > 0) co_await c.async_exec(index);  // a failure: the sweep repairs the index
  co_return out;
}

asio::awaitable<error_code> inbound_store::async_complete(redis::client& c, std::string_view home,
                                                          std::string_view id) const {
  const queue_keys q(home);
  const std::string_view keys[] = {q.queue, q.items, q.sending};
  const std::string_view args[] = {id, "done", "0"};
  auto r = co_await eval(c, report_script(), keys, args);
  if (!r) co_return r.error();
  // The last item of a slot's queue: its index entry goes too (a race with a webhook filling
  // the queue again is repaired by async_sweep).
  if (home != default_home && r->kind == redis::reply::type::integer && r->integer == 0) {
    auto z = co_await c.async_exec({"ZREM", index_key, home});
    if (!z) co_return z.error();
  }
  co_return error_code{};
}

asio::awaitable<error_code> inbound_store::async_retry(redis::client& c, std::string_view home,
                                                       std::string_view id,
                                                       std::int64_t due_ms) const {
  const std::string due = decimal(due_ms);
  const queue_keys q(home);
  const std::string_view keys[] = {q.queue, q.items, q.sending};
  const std::string_view args[] = {id, "retry", due};
  auto r = co_await eval(c, report_script(), keys, args);
  if (!r) co_return r.error();
  // The queue's entry in the index, so the retry is found when due.
  co_return co_await list_home(c, home, due_ms);
}

asio::awaitable<result<std::int64_t>> inbound_store::async_depth(redis::client& c) const {
  auto r = co_await c.async_exec({"ZCARD", queue_keys(default_home).queue});
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::integer)
    co_return make_error_code(dnc::contacts::contact_errc::bad_data);
  co_return r->integer;
}

asio::awaitable<result<inbound_store::sweep_result>> inbound_store::async_sweep(
    redis::client& c) const {
  constexpr std::size_t chunk = 2048;
  sweep_result out;
  auto def = co_await async_depth(c);
  if (!def) co_return def.error();
  out.depth = *def;
  for (std::size_t first = 0; first < redis::slot_count; first += chunk) {
    std::vector<std::string> keys;
    redis::pipeline p;
    for (std::size_t s = first; s < std::min<std::size_t>(first + chunk, redis::slot_count); ++s)
      keys.push_back(queue_keys(dnc::contacts::contact_keys::slot_tag(std::uint16_t(s))).queue);
    for (auto& k : keys) p.add({"ZRANGE", k, "0", "0", "WITHSCORES"});
    auto r = co_await c.async_exec(p);
    if (!r) co_return r.error();
    // The non-empty ones: listed in the index (LT: an earlier due time there stays), counted.
    redis::pipeline fix;
    for (std::size_t i = 0; i < r->size(); ++i) {
      const auto& e = (*r)[i];
      if (e.kind != redis::reply::type::array || e.elements.size() != 2) continue;
      const std::string_view home =
          dnc::contacts::contact_keys::slot_tag(std::uint16_t(first + i));
      fix.add({"ZADD", index_key, "LT", e.elements[1].str, home});
      fix.add({"ZCARD", keys[i]});
      ++out.queues;
    }
    if (fix.size() == 0) continue;
    auto f = co_await c.async_exec(fix);
    if (!f) co_return f.error();
    for (std::size_t i = 1; i < f->size(); i += 2)
      if ((*f)[i].kind == redis::reply::type::integer) out.depth += (*f)[i].integer;
  }
  co_return out;
}

// KEYS: queue, items, sending, then the markers to delete. ARGV: the payload text naming the
// recipient ('"to":"+1..."', as encode_reply writes it). Returns the removed item ids.
constexpr std::string_view forget_number_lua = R"lua(
local removed = {}
local h = redis.call('HGETALL', KEYS[2])
for i = 1, #h, 2 do
  if string.find(h[i + 1], ARGV[1], 1, true) then
    redis.call('HDEL', KEYS[2], h[i])
    redis.call('ZREM', KEYS[1], h[i])
    redis.call('SREM', KEYS[3], h[i])
    removed[#removed + 1] = h[i]
  end
end
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
return removed
)lua";

asio::awaitable<result<std::vector<std::string>>> async_forget_number(
    redis::client& c, std::string_view home, std::string_view number,
    std::span<const std::string> senders) {
  static const redis::script script(forget_number_lua);
  std::vector<std::string> markers;
  for (const auto& s : senders) markers.push_back(marker_key(home, number, s));
  const queue_keys q(home);
  std::vector<std::string_view> keys = {q.queue, q.items, q.sending};
  keys.insert(keys.end(), markers.begin(), markers.end());
  // The payload is Boost.JSON text; an E.164 number needs no escaping.
  const std::string needle = "\"to\":\"" + std::string(number) + "\"";
  const std::string_view args[] = {needle};
  auto r = co_await eval(c, script, keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::array) co_return make_error_code(dnc::contacts::contact_errc::bad_data);
  std::vector<std::string> ids;
  for (auto& e : r->elements) ids.push_back(std::move(e.str));
  co_return ids;
}

}  // namespace stopgate::gateway::webhooks
