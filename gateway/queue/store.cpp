#include "gateway/queue/store.hpp"

#include "redis/script.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace stopgate::gateway::queue {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code bad_reply() {
  return make_error_code(redis::errc::protocol);
}

struct shard_keys {
  std::string due, msg, state;
  explicit shard_keys(std::string_view tag)
      : due("{" + std::string(tag) + "}:due"),
        msg("{" + std::string(tag) + "}:msg"),
        state("{" + std::string(tag) + "}:state") {}
  std::array<std::string_view, 3> all() const { return {due, msg, state}; }
};

// KEYS due msg state; ARGV id payload state due_ms max_per_shard.
const redis::script enqueue_script(R"lua(
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return -1 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1
)lua");

// KEYS due msg state; ARGV now_ms limit lease_end_ms token_prefix.
// Returns id, payload, kind, token, previous state for each claimed message.
const redis::script claim_script(R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  local st = redis.call('HGET', KEYS[3], id)
  local p = redis.call('HGET', KEYS[2], id)
  if not st or not p then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  else
    local tok = ARGV[4] .. '.' .. i
    local kind = 'due'
    if string.sub(st, 1, 11) == 'submitting|' or string.sub(st, 1, 8) == 'unknown|' then
      kind = 'unknown'
      redis.call('HSET', KEYS[3], id, 'unknown|' .. tok)
    else
      redis.call('HSET', KEYS[3], id, 'claimed|' .. tok)
    end
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = p
    out[#out + 1] = kind
    out[#out + 1] = tok
    out[#out + 1] = st
  end
end
return out
)lua");

// KEYS due msg state; ARGV id token new_state due_ms. new_state "" removes the message;
// "submitting"/"claimed" keep the token.
const redis::script move_script(R"lua(
local st = redis.call('HGET', KEYS[3], ARGV[1])
if not st then return 0 end
local bar = string.find(st, '|', 1, true)
if not bar or string.sub(st, bar + 1) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  return 1
end
local ns = ARGV[3]
if ns == 'submitting' or ns == 'claimed' then ns = ns .. '|' .. ARGV[2] end
redis.call('HSET', KEYS[3], ARGV[1], ns)
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1
)lua");

// KEYS due msg state; ARGV id. The payload; 0 when absent; 1 when being submitted.
const redis::script remove_script(R"lua(
local st = redis.call('HGET', KEYS[3], ARGV[1])
if not st then return 0 end
if string.sub(st, 1, 11) == 'submitting|' then return 1 end
local p = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return p or ''
)lua");

// KEYS the limits' keys; ARGV now_us horizon_us spacing_us... (one per key). Books the first
// slot every limit allows (each key's next slot is its last booking plus its spacing).
const redis::script book_script(R"lua(
local now = tonumber(ARGV[1])
local at = now
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat > at then at = tat end
end
if at - now > tonumber(ARGV[2]) then return -(at - now) end
for i = 1, #KEYS do
  local nxt = at + tonumber(ARGV[i + 2])
  redis.call('SET', KEYS[i], string.format('%.0f', nxt), 'PX',
             math.floor((nxt - now) / 1000) + 1000)
end
return at - now
)lua");

// KEYS due state; ARGV now_ms mode ('all' | 'paused') id...
const redis::script redue_script(R"lua(
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local st = redis.call('HGET', KEYS[2], id)
  if st and (st == 'queued' or string.sub(st, 1, 5) == 'held|') and
     (ARGV[2] == 'all' or st == 'held|campaign_paused') then
    redis.call('HSET', KEYS[2], id, 'queued')
    redis.call('ZADD', KEYS[1], ARGV[1], id)
    n = n + 1
  end
end
return n
)lua");

// A script call, then WAIT when `ack` asks for replicas: EVAL (not EVALSHA) so that the pair
// is one pipeline on one connection (the WAIT rides to the script's node on a cluster).
asio::awaitable<boost::system::result<redis::reply>> eval_acked(
    redis::client& c, const redis::script& s, std::span<const std::string_view> keys,
    std::span<const std::string_view> args, const replica_ack* ack) {
  if (!ack || ack->replicas == 0 || !ack->client) co_return co_await redis::async_eval(c, s, keys, args);
  const std::string nkeys = std::to_string(keys.size());
  std::vector<std::string_view> cmd{"EVAL", s.text, nkeys};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  const std::string n = std::to_string(ack->replicas), ms = std::to_string(ack->timeout.count());
  redis::pipeline p;
  p.add(std::span<const std::string_view>(cmd));
  p.add({"WAIT", n, ms});
  auto r = co_await ack->client->async_exec(p);
  if (!r) co_return r.error();
  if (r->size() != 2) co_return bad_reply();
  if ((*r)[0].is_error()) co_return std::move((*r)[0]);
  if ((*r)[1].kind != redis::reply::type::integer || (*r)[1].integer < std::int64_t(ack->replicas))
    co_return make_error_code(redis::errc::timeout);
  co_return std::move((*r)[0]);
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::vector<std::string> queue_store::shards(const redis::client& c) const {
  if (!c.is_cluster()) return {"sg:q"};
  std::vector<std::string> out;
  out.reserve(shards_);
  for (unsigned i = 0; i < shards_; ++i) out.push_back("sg:q:" + std::to_string(i));
  return out;
}

std::string queue_store::shard_of(const redis::client& c, std::string_view id) const {
  if (!c.is_cluster()) return "sg:q";
  return "sg:q:" + std::to_string(fnv1a(id) % shards_);
}

asio::awaitable<boost::system::result<enqueue_result>> queue_store::async_enqueue(
    redis::client& c, std::string_view id, std::string_view payload, std::string_view state,
    std::int64_t due_ms, const replica_ack* ack) const {
  const shard_keys k(shard_of(c, id));
  const auto keys = k.all();
  const unsigned n = c.is_cluster() ? shards_ : 1;
  const std::string due = std::to_string(due_ms);
  const std::string max = std::to_string(std::max<std::uint64_t>(1, max_messages_ / n));
  const std::array<std::string_view, 5> args{id, payload, state, due, max};
  auto r = co_await eval_acked(c, enqueue_script, keys, args, ack);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::integer) co_return bad_reply();
  if (r->integer == 0) co_return enqueue_result::full;
  if (r->integer < 0) co_return enqueue_result::duplicate;
  co_return enqueue_result::queued;
}

asio::awaitable<boost::system::result<std::vector<claimed_message>>> queue_store::async_claim(
    redis::client& c, std::string_view shard, std::int64_t now_ms, std::size_t limit,
    std::int64_t lease_end_ms, std::string_view token_prefix) const {
  const shard_keys k(shard);
  const auto keys = k.all();
  const std::string now = std::to_string(now_ms), lim = std::to_string(limit),
                    lease = std::to_string(lease_end_ms);
  const std::array<std::string_view, 4> args{now, lim, lease, token_prefix};
  auto r = co_await redis::async_eval(c, claim_script, keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::array || r->elements.size() % 5 != 0) co_return bad_reply();
  std::vector<claimed_message> out;
  out.reserve(r->elements.size() / 5);
  for (std::size_t i = 0; i < r->elements.size(); i += 5) {
    claimed_message m;
    m.shard = std::string(shard);
    m.id = std::move(r->elements[i].str);
    m.payload = std::move(r->elements[i + 1].str);
    m.kind = r->elements[i + 2].str == "unknown" ? claimed_kind::unknown : claimed_kind::due;
    m.token = std::move(r->elements[i + 3].str);
    m.previous_state = std::move(r->elements[i + 4].str);
    out.push_back(std::move(m));
  }
  co_return out;
}

asio::awaitable<boost::system::result<bool>> queue_store::async_move(
    redis::client& c, std::string_view shard, std::string_view id, std::string_view token,
    std::string_view state, std::int64_t due_ms, const replica_ack* ack) const {
  const shard_keys k(shard);
  const auto keys = k.all();
  const std::string due = std::to_string(due_ms);
  const std::array<std::string_view, 4> args{id, token, state, due};
  auto r = co_await eval_acked(c, move_script, keys, args, ack);
  using out = boost::system::result<bool>;
  if (!r) co_return out(boost::system::in_place_error, r.error());
  if (r->kind != redis::reply::type::integer)
    co_return out(boost::system::in_place_error, bad_reply());
  co_return out(boost::system::in_place_value, r->integer == 1);
}

asio::awaitable<boost::system::result<queue_store::removal>> queue_store::async_remove(
    redis::client& c, std::string_view id) const {
  const shard_keys k(shard_of(c, id));
  const auto keys = k.all();
  const std::array<std::string_view, 1> args{id};
  auto r = co_await redis::async_eval(c, remove_script, keys, args);
  if (!r) co_return r.error();
  removal out;
  if (r->kind == redis::reply::type::integer) {
    out.what = r->integer == 1 ? removal::kind::submitting : removal::kind::absent;
    co_return out;
  }
  if (r->kind != redis::reply::type::string) co_return bad_reply();
  out.what = removal::kind::removed;
  out.payload = std::move(r->str);
  co_return out;
}

asio::awaitable<boost::system::result<std::int64_t>> queue_store::async_redue(
    redis::client& c, const std::vector<std::string>& ids, std::int64_t now_ms, bool all) const {
  std::map<std::string, std::vector<std::string_view>> by_shard;
  for (const auto& id : ids) by_shard[shard_of(c, id)].push_back(id);
  const std::string now = std::to_string(now_ms);
  std::int64_t moved = 0;
  for (auto& [shard, list] : by_shard) {
    const shard_keys k(shard);
    const std::array<std::string_view, 2> keys{k.due, k.state};
    // A few thousand ids per call keeps each script short.
    for (std::size_t i = 0; i < list.size(); i += 2000) {
      std::vector<std::string_view> args{now, all ? "all" : "paused"};
      const auto end = std::min(list.size(), i + 2000);
      args.insert(args.end(), list.begin() + std::ptrdiff_t(i), list.begin() + std::ptrdiff_t(end));
      auto r = co_await redis::async_eval(c, redue_script, keys, args);
      if (!r) co_return r.error();
      if (r->kind != redis::reply::type::integer) co_return bad_reply();
      moved += r->integer;
    }
  }
  co_return moved;
}

asio::awaitable<boost::system::result<std::vector<std::string>>> queue_store::async_states(
    redis::client& c, const std::vector<std::string>& ids) const {
  std::vector<std::string> out;
  if (ids.empty()) co_return out;
  redis::pipeline p;
  for (const auto& id : ids) p.add({"HGET", shard_keys(shard_of(c, id)).state, id});
  auto r = co_await c.async_exec(p);
  if (!r) co_return r.error();
  if (r->size() != ids.size()) co_return bad_reply();
  for (auto& e : *r) {
    if (e.is_error()) co_return bad_reply();
    out.push_back(e.is_nil() ? std::string() : std::move(e.str));
  }
  co_return out;
}

asio::awaitable<boost::system::result<std::int64_t>> queue_store::async_depth(
    redis::client& c) const {
  redis::pipeline p;
  for (const auto& s : shards(c)) p.add({"ZCARD", shard_keys(s).due});
  auto r = co_await c.async_exec(p);
  if (!r) co_return r.error();
  std::int64_t n = 0;
  for (const auto& e : *r) {
    if (e.kind != redis::reply::type::integer) co_return bad_reply();
    n += e.integer;
  }
  co_return n;
}

asio::awaitable<boost::system::result<queue_stats>> queue_store::async_stats(
    redis::client& c) const {
  queue_stats out;
  std::map<std::string, std::int64_t> counts;
  for (const auto& s : shards(c)) {
    const shard_keys k(s);
    redis::pipeline p;
    p.add({"HVALS", k.state});
    p.add({"ZRANGE", k.due, "0", "0", "WITHSCORES"});
    auto r = co_await c.async_exec(p);
    if (!r) co_return r.error();
    if (r->size() != 2 || (*r)[0].kind != redis::reply::type::array ||
        (*r)[1].kind != redis::reply::type::array)
      co_return bad_reply();
    for (const auto& v : (*r)[0].elements) {
      ++out.depth;
      const std::string& st = v.str;
      const auto bar = st.find('|');
      std::string name = st.substr(0, bar);
      if (name == "held" && bar != std::string::npos) name += ":" + st.substr(bar + 1);
      ++counts[name];
    }
    if ((*r)[1].elements.size() == 2) {
      const auto due = std::strtoll((*r)[1].elements[1].str.c_str(), nullptr, 10);
      if (out.oldest_due_ms == 0 || due < out.oldest_due_ms) out.oldest_due_ms = due;
    }
  }
  for (auto& [k, v] : counts) out.states.push_back({k, v});
  co_return out;
}

asio::awaitable<boost::system::result<std::int64_t>> queue_store::async_book(
    redis::client& c, const std::vector<rate_limit>& limits, std::int64_t now_us,
    std::int64_t horizon_us) const {
  if (limits.empty()) co_return std::int64_t{0};
  std::vector<std::string_view> keys;
  std::vector<std::string> nums{std::to_string(now_us), std::to_string(horizon_us)};
  for (const auto& l : limits) nums.push_back(std::to_string(l.spacing_us));
  std::vector<std::string_view> args(nums.begin(), nums.end());
  for (const auto& l : limits) keys.push_back(l.key);
  auto r = co_await redis::async_eval(c, book_script, keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::integer) co_return bad_reply();
  co_return r->integer;
}

}  // namespace stopgate::gateway::queue
