#include "gateway/send/message_store.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>

namespace stopgate::gateway::send {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

std::string msg_key(std::string_view id) {
  return "stopgate:msg:" + std::string(id);
}
std::string index_key(std::string_view carrier, std::string_view cmid) {
  return "stopgate:msg:carrier:" + std::string(carrier) + ":" + std::string(cmid);
}
std::string list_key(std::string_view number_tag) {
  return std::string(number_tag) + ":msgs";
}
std::string seen_key(std::string_view carrier, std::string_view cmid, std::string_view status) {
  return "stopgate:msg:seen:" + std::string(carrier) + ":" + std::string(cmid) + ":" +
         std::string(status);
}

const std::string ttl_s = std::to_string(message_ttl.count());

error_code bad_reply() {
  return make_error_code(redis::errc::protocol);
}

std::string micros(dnc::model::sys_time t) {
  return std::to_string(t.time_since_epoch().count());
}

// Replaces the status unless the stored one is final and the new one is not (a late "sent"
// after "delivered"). One script so that two callbacks racing cannot interleave.
constexpr std::string_view update_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], 'status')
local final = {delivered=1, read=1, undelivered=1, failed=1, canceled=1}
if old and final[old] and not final[ARGV[1]] then return 1 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2])
return 1
)lua";

}  // namespace

std::string new_message_id() {
  std::array<unsigned char, 12> raw{};
  if (RAND_bytes(raw.data(), int(raw.size())) != 1) {
    // OpenSSL's generator does not fail once seeded; fall back to the OS if it ever does.
    std::FILE* f = std::fopen("/dev/urandom", "rb");
    if (f) {
      (void)std::fread(raw.data(), 1, raw.size(), f);
      std::fclose(f);
    }
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "msg_";
  for (auto b : raw) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

asio::awaitable<error_code> message_store::async_put(const message_record& m) {
  const auto key = msg_key(m.message_id);
  const auto at = micros(m.updated_at);
  // On a cluster the three keys live in three slots, which one MULTI cannot span: the
  // recipient's list is written first and on its own, so that a record holding the number
  // always has its list entry (forget finds it); the record and its index follow in one
  // pipeline (a failure between them leaves a record a status callback cannot find, and the
  // send answers an error).
  const bool cluster = c_.is_cluster();
  std::string lk;
  if (cluster && !m.number_tag.empty()) {
    lk = list_key(m.number_tag);
    redis::pipeline first;
    first.add({"SADD", lk, m.message_id});
    first.add({"EXPIRE", lk, ttl_s});
    auto r = co_await c_.async_exec(first);
    if (!r) co_return r.error();
    for (auto& e : *r)
      if (e.is_error()) co_return bad_reply();
  }
  redis::pipeline p;
  if (!cluster) p.add({"MULTI"});
  {
    std::vector<std::string_view> hset{"HSET", key, "sender", m.sender, "to", m.to, "from", m.from,
                                       "carrier", m.carrier, "carrier_message_id",
                                       m.carrier_message_id, "status", m.status, "updated_at", at};
    if (!m.idempotency_key.empty()) hset.insert(hset.end(), {"idempotency_key", m.idempotency_key});
    if (!m.api_key.empty()) hset.insert(hset.end(), {"api_key", m.api_key});
    p.add(std::span<const std::string_view>(hset));
  }
  p.add({"EXPIRE", key, ttl_s});
  if (!cluster && !m.number_tag.empty()) {
    // The recipient's list of messages lives as long as its newest message.
    lk = list_key(m.number_tag);
    p.add({"SADD", lk, m.message_id});
    p.add({"EXPIRE", lk, ttl_s});
  }
  std::string ik;
  if (!m.carrier_message_id.empty()) {
    ik = index_key(m.carrier, m.carrier_message_id);
    p.add({"SET", ik, m.message_id, "EX", ttl_s});
  }
  if (!cluster) p.add({"EXEC"});
  auto r = co_await c_.async_exec(p);
  if (!r) co_return r.error();
  const std::vector<redis::reply>& answers = cluster ? *r : r->back().elements;
  if (!cluster && r->back().kind != redis::reply::type::array) co_return bad_reply();
  for (auto& e : answers)
    if (e.is_error()) co_return bad_reply();
  co_return error_code{};
}

asio::awaitable<boost::system::result<std::optional<message_record>>> message_store::async_get(
    std::string_view message_id) {
  const auto key = msg_key(message_id);
  auto r = co_await c_.async_exec(redis::command_args("HGETALL", key));
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::array) co_return bad_reply();
  if (r->elements.empty()) co_return std::optional<message_record>{};
  message_record m;
  m.message_id = std::string(message_id);
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    const auto& k = r->elements[i].str;
    auto& v = r->elements[i + 1].str;
    if (k == "sender")
      m.sender = std::move(v);
    else if (k == "to")
      m.to = std::move(v);
    else if (k == "from")
      m.from = std::move(v);
    else if (k == "carrier")
      m.carrier = std::move(v);
    else if (k == "carrier_message_id")
      m.carrier_message_id = std::move(v);
    else if (k == "status")
      m.status = std::move(v);
    else if (k == "updated_at")
      m.updated_at = dnc::model::sys_time(std::chrono::microseconds(std::strtoll(v.c_str(), nullptr, 10)));
    else if (k == "idempotency_key")
      m.idempotency_key = std::move(v);
    else if (k == "api_key")
      m.api_key = std::move(v);
  }
  co_return std::optional<message_record>(std::move(m));
}

asio::awaitable<boost::system::result<std::optional<std::string>>> message_store::async_find(
    std::string_view carrier, std::string_view carrier_message_id) {
  const auto key = index_key(carrier, carrier_message_id);
  auto r = co_await c_.async_exec(redis::command_args("GET", key));
  if (!r) co_return r.error();
  if (r->is_nil()) co_return std::optional<std::string>{};
  if (r->kind != redis::reply::type::string) co_return bad_reply();
  co_return std::optional<std::string>(std::move(r->str));
}

asio::awaitable<boost::system::result<bool>> message_store::async_update_status(
    std::string_view message_id, std::string_view status, dnc::model::sys_time at) {
  const auto key = msg_key(message_id);
  const auto t = micros(at);
  using out = boost::system::result<bool>;
  auto r = co_await c_.async_exec(redis::command_args("EVAL", update_script, "1", key, status, t));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  if (r->kind != redis::reply::type::integer)
    co_return out(boost::system::in_place_error, bad_reply());
  co_return out(boost::system::in_place_value, r->integer == 1);
}

asio::awaitable<boost::system::result<status_claim>> message_store::async_claim_status(
    std::string_view carrier, std::string_view carrier_message_id, std::string_view status) {
  const auto key = seen_key(carrier, carrier_message_id, status);
  // SET NX, then GET only when taken (SET ... NX GET needs Redis 7).
  auto r = co_await c_.async_exec(redis::command_args("SET", key, "pending", "NX", "EX", "60"));
  if (!r) co_return r.error();
  if (r->kind == redis::reply::type::status) co_return status_claim::fresh;
  if (!r->is_nil()) co_return bad_reply();
  auto g = co_await c_.async_exec(redis::command_args("GET", key));
  if (!g) co_return g.error();
  if (g->is_nil()) co_return status_claim::busy;  // released meanwhile: the carrier retries
  if (g->kind != redis::reply::type::string) co_return bad_reply();
  co_return g->str == "done" ? status_claim::done : status_claim::busy;
}

asio::awaitable<error_code> message_store::async_finish_status(std::string_view carrier,
                                                               std::string_view carrier_message_id,
                                                               std::string_view status,
                                                               bool applied) {
  const auto key = seen_key(carrier, carrier_message_id, status);
  boost::system::result<redis::reply> r = make_error_code(redis::errc::not_connected);
  if (applied)
    r = co_await c_.async_exec(redis::command_args("SET", key, "done", "EX", ttl_s));
  else
    r = co_await c_.async_exec(redis::command_args("DEL", key));
  if (!r) co_return r.error();
  if (r->is_error()) co_return bad_reply();
  co_return error_code{};
}

asio::awaitable<boost::system::result<forgotten_messages>> message_store::async_forget(
    std::string_view number_tag) {
  const auto lk = list_key(number_tag);
  auto members = co_await c_.async_exec(redis::command_args("SMEMBERS", lk));
  if (!members) co_return members.error();
  if (members->kind != redis::reply::type::array) co_return bad_reply();
  forgotten_messages out;
  if (members->elements.empty()) co_return out;

  // What each record names besides the number: its carrier-id index entry and its
  // idempotency key (whose stored answer the caller scrubs).
  redis::pipeline p;
  for (const auto& id : members->elements)
    p.add({"HMGET", msg_key(id.str), "carrier", "carrier_message_id", "sender", "idempotency_key"});
  auto fields = co_await c_.async_exec(p);
  if (!fields) co_return fields.error();
  if (fields->size() != members->elements.size()) co_return bad_reply();

  p.clear();
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const redis::reply& f = (*fields)[i];
    const std::string& id = members->elements[i].str;
    if (f.kind != redis::reply::type::array || f.elements.size() != 4) co_return bad_reply();
    if (f.elements[0].is_nil() && f.elements[2].is_nil()) {
      p.add({"SREM", lk, id});  // expired meanwhile: only its list entry is left
      continue;
    }
    out.message_ids.push_back(id);
    p.add({"DEL", msg_key(id)});
    if (!f.elements[0].str.empty() && !f.elements[1].str.empty())
      p.add({"DEL", index_key(f.elements[0].str, f.elements[1].str)});
    if (!f.elements[2].str.empty() && !f.elements[3].str.empty())
      out.idempotency_keys.emplace_back(f.elements[2].str, f.elements[3].str);
    // SREM rather than DEL of the list: a message stored meanwhile keeps its entry.
    p.add({"SREM", lk, id});
  }
  auto done = co_await c_.async_exec(p);
  if (!done) co_return done.error();
  for (const auto& e : *done)
    if (e.is_error()) co_return bad_reply();
  co_return out;
}

}  // namespace stopgate::gateway::send
