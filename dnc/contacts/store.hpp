// The contact store: opt-outs, consents and frequency counters of each number in Redis, one
// hash-tagged key family per number (dnc/contact_keys.hpp), a whole check batch read in one
// pipeline, every write one atomic round trip. docs/dev/CONTACTS.md describes the schema.
//
//   auto p = contact_keys::pseudonymizer::create(secret).value();
//   contact_store store(client, p);
//   auto facts = co_await store.async_fetch(items, now);   // result<vector<model::number_facts>>
#pragma once

#include "dnc/contacts/cache.hpp"
#include "dnc/contacts/error.hpp"
#include "dnc/contacts/keys.hpp"
#include "dnc/model/facts.hpp"
#include "redis/client.hpp"
#include "redis/script.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <deque>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::dnc::contacts {

/// The opt-out script composed with a caller's Lua step, for async_record_optout_then. The step
/// is a chunk that reads its own KEYS and ARGV (numbered from 1) and returns its reply. Build
/// one per step text, once (e.g. a function-local static), and keep it: it owns the text.
class optout_followup {
 public:
  explicit optout_followup(std::string_view step_lua);
  ~optout_followup();
  optout_followup(const optout_followup&) = delete;
  optout_followup& operator=(const optout_followup&) = delete;
  const redis::script& script() const noexcept { return *script_; }

 private:
  std::string text_;
  std::unique_ptr<redis::script> script_;
};

/// Where a consent came from (SPEC section 3, `consent.source`).
struct consent_source {
  std::string method;  // web_form | keyword | verbal | paper
  std::string url, ip, user_agent;
  std::string text;   // the disclosure shown
  std::string proof;  // e.g. a certificate URL
};

/// A consent with its source details. When recording, fact.id is ignored (the store
/// assigns one) and fact.evidence_id is the evidence record the caller already wrote.
struct consent_record {
  model::consent_fact fact;
  consent_source source;
};

/// One number of a check batch.
struct fetch_item {
  model::phone_number number;
  std::string_view campaign;  // empty: no counters are read
  /// Set when a frequency cap applies: read the contacts committed in (at - window, at].
  std::optional<std::chrono::microseconds> window;
};

/// One committed contact, counted toward frequency caps.
struct commit_item {
  model::phone_number number;
  std::string_view campaign;
  model::sys_time at{};
  /// The longest cap window of the campaign: older entries are trimmed, the counter key
  /// expires this long (plus a minute of clock-skew margin) after its last commit.
  std::chrono::microseconds window{};
};

enum class optin_outcome : std::uint8_t {
  no_optout,  // the sender had no opt-out to lift
  lifted,     // the sender's opt-out (older than the consent) was removed
  kept_newer  // the sender's opt-out is not older than the consent: it stays
};

struct optin_result {
  std::string consent_id;
  optin_outcome outcome = optin_outcome::no_optout;
};

struct campaign_contacts {
  std::string campaign;
  std::vector<model::sys_time> contacts;  // oldest first
};

/// Everything held about one number (the `lookup` op).
struct contact_record {
  std::string number;  // E.164 as stored; empty when nothing was recorded or after forget
  std::vector<model::optout_fact> optouts;
  std::vector<consent_record> consents;
  std::vector<campaign_contacts> counters;
  std::vector<std::string> evidence_ids;  // of opt-outs, consents, opt-ins; newest first
  std::optional<model::sys_time> forgotten_at;
};

/// What `forget` erased and kept. Entries: "number", "consent:ID", "consent_details",
/// "counters:CAMPAIGN", "evidence_index"; kept: "optout:SENDER".
struct forget_report {
  std::vector<std::string> erased;
  std::vector<std::string> kept;
  std::string why;
};

/// The length each per-slot change stream is capped to (per_slot_changes below).
inline constexpr std::size_t per_slot_stream_length = 128;

struct contact_store_options {
  std::size_t max_evidence_ids = 100;  // evidence ids kept per number, newest first
  std::size_t max_contacts = 256;      // counter entries kept (and read) per number and campaign
  /// Entries kept in the change stream (XADD MAXLEN ~, so a little more). A cache that
  /// falls further behind than this drops everything; every writer should use the same.
  std::size_t change_stream_length = 100'000;
  /// The local cache of opt-outs and consents (cache.max_bytes = 0: off, every fetch reads
  /// every hash).
  contact_cache_options cache;
  /// Redis Cluster: each write announces itself on its own slot's change stream
  /// (contact_keys::changes_for) instead of {c:changes}, so every script touches one slot; the
  /// streams are capped to per_slot_stream_length entries. On a cluster client the cache
  /// follows the nodes' invalidations instead (redis::client::enable_tracking); the data-loss
  /// detection, which rides on the single stream, is off. docs/dev/CONTACTS.md, "Redis Cluster".
  bool per_slot_changes = false;
  /// Replica acknowledgement of opt-out, opt-in and consent writes (redis.min_replica_acks,
  /// docs/REDIS.md): after each such write, WAIT until this many replicas hold it, at most
  /// replica_ack_timeout; fewer is contact_errc::replicas_behind (the write is on the
  /// primary but could be lost by a failover: the caller must not acknowledge it).
  unsigned min_replica_acks = 0;
  std::chrono::milliseconds replica_ack_timeout{500};
  /// The connection those writes and their WAIT go on. WAIT holds up every command behind it
  /// on its connection, so the fetches' connection should not carry it. Null: the store's own
  /// client. Same executor as the store's client.
  redis::client* acked_writes = nullptr;
  /// On a cluster with the cache on: where fetch rounds too small for the cache read (their
  /// reads would only fill the nodes' tracking tables). Null: the store's own client. Same
  /// executor as the store's client.
  redis::client* untracked_reads = nullptr;
};

/// Not thread-safe: use it from the executor of its client (the same rule as the client).
/// Several coroutines may use one store concurrently. Fetches that start in the same turn of
/// the executor share one pipeline. Opt-outs and consents may be answered from the local
/// cache, which that pipeline first validates against the change stream (on a cluster: the
/// nodes' invalidations and a barrier), so a write acknowledged through any gateway is seen by
/// the next fetch of every other (counters are always read).
/// Errors: redis::errc transport failures (the caller fails closed), contact_errc otherwise.
/// Completions never run inline inside hiredis (they come through the client).
class contact_store {
 public:
  contact_store(redis::client& c, const contact_keys::pseudonymizer& p,
                contact_store_options opts = {});
  ~contact_store();
  contact_store(const contact_store&) = delete;
  contact_store& operator=(const contact_store&) = delete;

  /// The facts of every item, in order, read with ONE pipeline shared with every other fetch
  /// started in the same executor turn: the change-stream poll (cache on), HGETALL of each
  /// number's hash not in the cache, plus ZREVRANGEBYSCORE of its counter when the item has
  /// a campaign and a window. A number whose data cannot be read (an error reply, a value
  /// the store did not write) gets available = false (fail closed for that number only).
  /// `items` and their campaign strings must stay valid until completion. Completes through
  /// the executor, never inline. (Rarely a second pipeline: a cached number changed while
  /// its check was in flight.)
  boost::asio::awaitable<boost::system::result<std::vector<model::number_facts>>> async_fetch(
      std::span<const fetch_item> items, model::sys_time at);

  /// Reads the change stream now (cache on; nothing otherwise), as every fetch does: keeps a
  /// quiet store's cache position fresh and lets it see a data loss, or the rebuild after one,
  /// without a check (cache()->data_lost()). The gateway's Redis watch calls it.
  boost::asio::awaitable<boost::system::error_code> async_poll_changes();

  /// Loads every write script into Redis (SCRIPT LOAD), so that no write meets NOSCRIPT and
  /// is sent a second time behind later ones: a replay that must apply writes in the order it
  /// issued them (`stopgatectl contacts rebuild`) calls it first.
  boost::asio::awaitable<boost::system::error_code> async_load_scripts();

  /// Records an opt-out of `sender` ("*" = every sender). Keeps the LATEST opt-out per
  /// sender: returns false when one at least as recent was already there (kept unchanged).
  /// The viewed strings must stay valid until completion (co_await the call at once).
  boost::asio::awaitable<boost::system::result<bool>> async_record_optout(
      model::phone_number n, std::string_view sender, model::sys_time at, std::string_view source,
      std::string_view evidence_id);

  /// An opt-out followed, in the same Lua script, by another step: the opt-out and the step
  /// are applied together or the step not at all (the opt-out runs first; if it fails, the
  /// step never runs). `followup` is a script made with `optout_followup_script`; `keys` and
  /// `args` are the step's own (they may name keys outside the number's slot). Returns the
  /// step's reply; errors as async_record_optout. Same lifetime rule for the views.
  boost::asio::awaitable<boost::system::result<redis::reply>> async_record_optout_then(
      model::phone_number n, std::string_view sender, model::sys_time at, std::string_view source,
      std::string_view evidence_id, const optout_followup& followup,
      std::span<const std::string_view> keys, std::span<const std::string_view> args);

  /// Stores a consent; returns its new id ("cn_" + 16 hex). Takes the record by value: the
  /// coroutine owns it.
  boost::asio::awaitable<boost::system::result<std::string>> async_record_consent(
      model::phone_number n, consent_record c);

  /// An opt-in: atomically removes the opt-out of c.fact.sender if it is older than
  /// c.fact.captured_at, and stores the consent (in every case). Never lifts "*".
  boost::asio::awaitable<boost::system::result<optin_result>> async_record_optin(
      model::phone_number n, consent_record c);

  /// Counts one contact toward the campaign's caps (atomic per number).
  boost::asio::awaitable<boost::system::error_code> async_commit_contact(const commit_item& item);
  /// Many commits in one pipeline (each one atomic per number). On an error, some may have
  /// been counted (counting is conservative: an extra entry only defers, never allows).
  boost::asio::awaitable<boost::system::error_code> async_commit_many(
      std::span<const commit_item> items);

  /// Everything held about the number (two round trips when it has counters).
  boost::asio::awaitable<boost::system::result<contact_record>> async_lookup(model::phone_number n);

  /// A data-subject deletion: erases the number, every consent with its source details, the
  /// counters and the evidence index; keeps the opt-outs (the suppression) under the
  /// pseudonymous key, with a forget time when any is kept. Atomic.
  boost::asio::awaitable<boost::system::result<forget_report>> async_forget(model::phone_number n,
                                                                            model::sys_time at);

  /// The pseudonym that names this store's keys: other records about a number (the message
  /// store's index, docs/SEND.md) use the same tag, so forget can find them.
  const contact_keys::pseudonymizer& pseudonyms() const noexcept { return keys_; }
  /// The client the store reads and writes through.
  redis::client& client() const noexcept { return redis_; }

  /// Client calls issued (each a single round trip): for tests and metrics.
  std::uint64_t round_trips() const noexcept { return round_trips_; }
  /// The local cache (null when off): for tests and metrics.
  const contact_cache* cache() const noexcept { return cache_.get(); }

 private:
  struct fetch_waiter;  // one async_fetch call waiting for its pipeline (contact_store_fetch.cpp)
  /// Queues one fetch for the next flush and waits for its answer.
  boost::asio::awaitable<boost::system::result<std::vector<model::number_facts>>> queue_fetch(
      std::span<const fetch_item> items, model::sys_time at);
  boost::asio::awaitable<void> flush();
  void post_flush(const boost::asio::any_io_executor& ex);
  boost::asio::awaitable<boost::system::result<redis::reply>> eval(
      const redis::script& s, std::span<const std::string_view> keys,
      std::span<const std::string_view> args);
  /// eval of an opt-out, opt-in or consent write, on the acked-writes connection and, when
  /// min_replica_acks > 0, answered only once a WAIT sent after it has enough replicas.
  boost::asio::awaitable<boost::system::result<redis::reply>> acked_eval(
      const redis::script& s, std::span<const std::string_view> keys,
      std::span<const std::string_view> args);
  // The WAITs are coalesced (group commit for replica acknowledgements): WAIT blocks its
  // connection until it returns, so one WAIT per write would serialise this thread's acked
  // writes one replication round trip each. Instead the writes answered while a WAIT is out
  // join the next round, and one WAIT (sent after all of them were answered, so it covers
  // them) acknowledges the whole round.
  struct ack_round;
  struct ack_rounds;
  boost::asio::awaitable<boost::system::error_code> await_replica_acks();
  static boost::asio::awaitable<void> send_waits(std::shared_ptr<ack_rounds> rounds, redis::client& c,
                                                 std::size_t min_acks, std::chrono::milliseconds timeout);
  boost::asio::awaitable<boost::system::result<std::vector<redis::reply>>> exec(
      const redis::pipeline& p, redis::client* on = nullptr);
  boost::asio::awaitable<boost::system::result<optin_result>> async_record_optin_impl(
      model::phone_number n, const consent_record& c, bool lift);
  void add_commit(const commit_item& item, std::string_view sha);
  std::string new_id(std::string_view prefix);

  redis::client& redis_;
  contact_keys::pseudonymizer keys_;
  contact_store_options opts_;
  std::mt19937_64 rng_;
  redis::pipeline pipe_;  // reused: read by the client before its first suspension
  std::string scratch_;   // reused counter-key buffer
  std::uint64_t round_trips_ = 0;
  std::shared_ptr<ack_rounds> ack_rounds_;  // shared with the coroutine sending the WAITs
  std::unique_ptr<contact_cache> cache_;
  // On a cluster the cache follows the nodes' invalidations (docs/dev/CONTACTS.md, "The
  // cache on a cluster"). The keys invalidated while fetches are in flight are logged, so a
  // hash read before its invalidation arrived is not cached.
  void on_invalidated(std::span<const std::string_view> keys);
  bool tracked_ = false;
  std::uint64_t inval_seq_ = 0;
  std::deque<std::pair<cache_key, std::uint64_t>> inval_log_;  // in sequence order
  std::multiset<std::uint64_t> inval_since_;  // where each fetch in flight began reading the log
  std::uint64_t inval_log_overflow_ = 0;      // the last sequence number not logged (full)
  // The slots whose marker (contact_keys::slot_marker) this store has read with tracking on
  // and not heard invalidated since: only their numbers are answered from the cache.
  std::vector<std::uint8_t> marker_armed_;
  std::uint64_t marker_epoch_ = 0;  // grows when a marker is invalidated or tracking resets
  void tracking_reset();
  // Fetches waiting for the next flush. Shared with the awaiting coroutine: a fetch whose
  // caller was cancelled is abandoned, not freed under a flush that still reads it.
  std::vector<std::shared_ptr<fetch_waiter>> queued_;
  bool flush_posted_ = false;
};

}  // namespace stopgate::dnc::contacts
