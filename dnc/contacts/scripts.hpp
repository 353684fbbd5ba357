// Internal to the contact store: the Lua scripts that make each write atomic per number.
// Every key a script touches is passed in KEYS and shares the number's hash tag, so each
// runs on one Redis Cluster slot. Times are integer microseconds (exact in Lua's doubles
// until the year 2255); bounds computed from them come from C++ as ready-made strings.
#pragma once

#include "dnc/contacts/store.hpp"

#include <string>
#include <string_view>

namespace stopgate::dnc::contacts {

namespace contact_scripts {

// Every script that changes a number's hash first announces it on the change stream (the
// hash key, with the next value of the change counter), so that gateways caching number
// facts (dnc/contact_cache.hpp) drop them on their next fetch. First, not last: if the
// announcement fails, nothing was written (the write fails and is retried), so an effect
// never exists unannounced. Counter commits are not announced: counters are never cached.

// KEYS: hash, evidence list, change stream, change counter. ARGV: field, at, json, number,
// evidence id, max evidence ids, change stream length.
// Keeps the latest opt-out; returns 1 when stored, 0 when one at least as recent was there.
// An evidence id already in the list is not pushed again (a replay of the evidence log,
// `stopgatectl contacts rebuild`, is idempotent); the list is trimmed only when the push took
// it past its bound (one call less).
// A value that cannot be read is overwritten: an opt-out is never dropped for it.
inline constexpr std::string_view optout = R"lua(
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 's', redis.call('INCR', KEYS[4]), 'k', KEYS[1])
local stored = 1
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok and type(v) == 'table' and type(v.at) == 'number' and v.at >= tonumber(ARGV[2]) then
    stored = 0
  end
end
if stored == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], 'n', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'n', ARGV[4])
end
if ARGV[5] ~= '' and not redis.call('LPOS', KEYS[2], ARGV[5]) and
   redis.call('LPUSH', KEYS[2], ARGV[5]) > tonumber(ARGV[6]) then
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
end
return stored
)lua";

// The opt-out script, then `step` (a chunk reading its own KEYS and ARGV, numbered from 1), as
// one script: KEYS are the opt-out's 4 then the step's, ARGV the opt-out's 7 then the step's.
// Returns the step's reply. The step runs only after the opt-out completed (an error in the
// opt-out ends the script first). Lua locals named KEYS and ARGV shadow the globals.
inline std::string optout_then(std::string_view step) {
  std::string s = "local function optout(KEYS, ARGV)\n";
  s.append(optout);
  s += "end\nlocal function step(KEYS, ARGV)\n";
  s.append(step);
  s += R"lua(end
optout({KEYS[1], KEYS[2], KEYS[3], KEYS[4]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]})
local k, a = {}, {}
for i = 5, #KEYS do k[#k + 1] = KEYS[i] end
for i = 8, #ARGV do a[#a + 1] = ARGV[i] end
return step(k, a)
)lua";
  return s;
}

// KEYS: hash, details hash, evidence list, change stream, change counter. ARGV: opt-out
// field to lift ('' for none), opt-in time, consent field, consent json, consent id, details
// json, number, evidence id, max evidence ids, change stream length. Returns 0 no opt-out,
// 1 lifted, 2 kept (not older than the opt-in; an unreadable one is kept too: never lift
// what cannot be compared).
inline constexpr std::string_view consent = R"lua(
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*', 's', redis.call('INCR', KEYS[5]), 'k', KEYS[1])
local outcome = 0
if ARGV[1] ~= '' then
  local cur = redis.call('HGET', KEYS[1], ARGV[1])
  if cur then
    outcome = 2
    local ok, v = pcall(cjson.decode, cur)
    if ok and type(v) == 'table' and type(v.at) == 'number' and v.at < tonumber(ARGV[2]) then
      redis.call('HDEL', KEYS[1], ARGV[1])
      outcome = 1
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4], 'n', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
if ARGV[8] ~= '' and not redis.call('LPOS', KEYS[3], ARGV[8]) and
   redis.call('LPUSH', KEYS[3], ARGV[8]) > tonumber(ARGV[9]) then
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[9]) - 1)
end
return outcome
)lua";

// KEYS: counter zset, campaign index zset. ARGV: at, member, trim bound (entries at or
// below it are outside every window ending at or after `at`), max entries, ttl ms,
// campaign, counter expiry (at + window; ZADD GT adds or raises it). TTLs only grow: a shorter
// window never cuts a longer one's entries short.
inline constexpr std::string_view commit = R"lua(
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('ZADD', KEYS[2], 'GT', ARGV[7], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
)lua";

// KEYS: hash, details hash, evidence list, campaign index, change stream, change counter,
// then one counter key per campaign read just before (ARGV[3..]). ARGV[1]: forget time,
// ARGV[2]: change stream length. Returns -1 when the index gained a campaign meanwhile (the
// caller re-reads and retries), else {erased, kept}.
inline constexpr std::string_view forget = R"lua(
local known = {}
for i = 3, #ARGV do known[ARGV[i]] = true end
for _, c in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  if not known[c] then return -1 end
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[2], '*', 's', redis.call('INCR', KEYS[6]), 'k', KEYS[1])
local erased, kept = {}, {}
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h, 2 do
  local f = h[i]
  local p = string.sub(f, 1, 2)
  if f == 'n' then
    redis.call('HDEL', KEYS[1], f)
    erased[#erased + 1] = 'number'
  elseif p == 'c:' then
    redis.call('HDEL', KEYS[1], f)
    erased[#erased + 1] = 'consent:' .. string.sub(f, 3)
  elseif p == 'o:' then
    kept[#kept + 1] = 'optout:' .. string.sub(f, 3)
  end
end
if redis.call('DEL', KEYS[2]) == 1 then erased[#erased + 1] = 'consent_details' end
for i = 7, #KEYS do
  if redis.call('DEL', KEYS[i]) == 1 then erased[#erased + 1] = 'counters:' .. ARGV[i - 4] end
end
redis.call('DEL', KEYS[4])
if redis.call('DEL', KEYS[3]) == 1 then erased[#erased + 1] = 'evidence_index' end
if #kept > 0 then
  redis.call('HSET', KEYS[1], 'f', ARGV[1])
else
  redis.call('DEL', KEYS[1])
end
return {erased, kept}
)lua";

// KEYS: change stream, change counter, rebuild marker. ARGV: the last stream id read ('' when
// starting), most entries to return. Returns {counter, id of the newest entry ('' when none),
// entries after the last id, oldest first, at most ARGV[2], the rebuild marker ('' when
// none)} read atomically, so the caller can tell whether it saw every change since its last
// poll, and whether Redis lost data or was rebuilt since (contact_cache::apply_poll).
inline constexpr std::string_view poll = R"lua(
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local rebuilt = redis.call('GET', KEYS[3]) or ''
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local top_id = ''
if #top > 0 then top_id = top[1][1] end
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
end
return {seq, top_id, entries, rebuilt}
)lua";

}  // namespace contact_scripts
}  // namespace stopgate::dnc::contacts
