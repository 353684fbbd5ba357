// The contact store's writes and commits. The fetch (coalescing, cache) is in
// contact_store_fetch.cpp; lookup and forget are in contact_store_admin.cpp.
#include "dnc/contacts/store.hpp"

#include "redis/slot.hpp"

#include "dnc/contacts/codec.hpp"
#include "dnc/contacts/scripts.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
using contact_codec::to_decimal;
using contact_codec::to_us;

// The counter keys live a minute longer than their window: gateways' clocks may differ.
constexpr std::int64_t ttl_margin_ms = 60'000;

const redis::script& optout_script() {
  static const redis::script s(contact_scripts::optout);
  return s;
}
const redis::script& consent_script() {
  static const redis::script s(contact_scripts::consent);
  return s;
}
const redis::script& commit_script() {
  static const redis::script s(contact_scripts::commit);
  return s;
}

// result<bool> cannot be built from an error_code implicitly (error_code converts to bool).
result<bool> failed(error_code ec) {
  return result<bool>(boost::system::in_place_error, ec);
}

}  // namespace

contact_store::contact_store(redis::client& c, const contact_keys::pseudonymizer& p,
                             contact_store_options opts)
    : redis_(c), keys_(p), opts_(opts) {
  // 16,384 streams that no cache reads: each stays short, so they hold megabytes, not the
  // tens of gigabytes 16,384 full-length streams would.
  if (opts_.per_slot_changes)
    opts_.change_stream_length = std::min(opts_.change_stream_length, per_slot_stream_length);
  if (opts_.cache.max_bytes > 0 && (!opts_.per_slot_changes || redis_.is_cluster()))
    cache_ = std::make_unique<contact_cache>(opts_.cache);
  if (cache_ && redis_.is_cluster()) {
    tracked_ = true;
    cache_->follow_invalidations();
    marker_armed_.assign(redis::slot_count, 0);
    redis_.enable_tracking([this](std::span<const std::string_view> keys) { on_invalidated(keys); },
                           [this] { tracking_reset(); });
  }
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd()};
  rng_.seed(seed);
}

contact_store::~contact_store() {
  if (tracked_) redis_.enable_tracking(nullptr, nullptr);
}

void contact_store::tracking_reset() {
  cache_->drop_all();
  std::fill(marker_armed_.begin(), marker_armed_.end(), std::uint8_t{0});
  ++marker_epoch_;
}

void contact_store::on_invalidated(std::span<const std::string_view> keys) {
  for (std::string_view k : keys) {
    if (contact_keys::is_slot_marker(k)) {
      // The slot moved (its keys left the node), was emptied, or Redis evicted the marker
      // from its tracking table: the slot's numbers are not answered from the cache until its
      // marker is read again. On the same node (a moved slot's marker is read on its old owner
      // until the map changes, which answers MOVED; a map change drops everything), the
      // entries cached from it are good again; rounds in flight use nothing they cached.
      marker_armed_[redis::key_slot(k)] = 0;
      ++marker_epoch_;
      continue;
    }
    auto key = cache_key::from_hash_key(k);
    if (!key) continue;  // not a contact hash (counters, messages, ...)
    cache_->drop(*key);
    ++inval_seq_;
    if (inval_since_.empty()) continue;  // no fetch in flight needs to know
    if (inval_log_.size() >= 65536) {
      inval_log_overflow_ = inval_seq_;
      continue;
    }
    inval_log_.emplace_back(*key, inval_seq_);
  }
}

std::string contact_store::new_id(std::string_view prefix) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(prefix);
  std::uint64_t v = rng_();
  for (int i = 0; i < 16; ++i, v >>= 4) id += hex[v & 15];
  return id;
}

asio::awaitable<result<std::vector<redis::reply>>> contact_store::exec(const redis::pipeline& p,
                                                                      redis::client* on) {
  ++round_trips_;
  co_return co_await (on ? *on : redis_).async_exec(p);
}

asio::awaitable<result<redis::reply>> contact_store::eval(const redis::script& s,
                                                          std::span<const std::string_view> keys,
                                                          std::span<const std::string_view> args) {
  auto r = co_await redis::async_eval(redis_, s, keys, args, &round_trips_);
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(contact_errc::redis_error);
  co_return std::move(*r);
}

struct contact_store::ack_round {
  explicit ack_round(const asio::any_io_executor& ex) : done_signal(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done_signal;  // cancelled when the round's WAIT has answered
  bool done = false;
  error_code ec;  // replicas_behind, or the WAIT's own failure
};

struct contact_store::ack_rounds {
  std::shared_ptr<ack_round> next;  // the round writes answered now join; null: none yet
  bool sending = false;             // a send_waits coroutine is running
};

asio::awaitable<result<redis::reply>> contact_store::acked_eval(
    const redis::script& s, std::span<const std::string_view> keys,
    std::span<const std::string_view> args) {
  redis::client& c = opts_.acked_writes ? *opts_.acked_writes : redis_;
  auto r = co_await redis::async_eval(c, s, keys, args, &round_trips_);
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(contact_errc::redis_error);
  if (opts_.min_replica_acks == 0) co_return std::move(*r);
  // Acknowledged only once enough replicas hold it: a failover to a replica that missed it
  // would otherwise lose an opt-out the caller was told is recorded.
  if (auto ec = co_await await_replica_acks()) co_return ec;
  co_return std::move(*r);
}

asio::awaitable<error_code> contact_store::await_replica_acks() {
  auto ex = co_await asio::this_coro::executor;
  if (!ack_rounds_) ack_rounds_ = std::make_shared<ack_rounds>();
  auto rounds = ack_rounds_;
  if (!rounds->next) rounds->next = std::make_shared<ack_round>(ex);
  const auto mine = rounds->next;
  if (!rounds->sending) {
    rounds->sending = true;
    redis::client& c = opts_.acked_writes ? *opts_.acked_writes : redis_;
    asio::co_spawn(ex, send_waits(rounds, c, opts_.min_replica_acks, opts_.replica_ack_timeout), asio::detached);
  }
  ++round_trips_;  // (a WAIT shared with the other writes of the round)
  while (!mine->done) {
    error_code ignored;
    co_await mine->done_signal.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  co_return mine->ec;
}

asio::awaitable<void> contact_store::send_waits(std::shared_ptr<ack_rounds> rounds, redis::client& c,
                                                std::size_t min_acks, std::chrono::milliseconds timeout) {
  while (rounds->next) {
    // Writes answered from now on join the next round: this WAIT may be sent before their
    // writes reached the primary.
    const auto round = std::move(rounds->next);
    rounds->next = nullptr;
    char n_buf[24], ms_buf[24];
    auto w = co_await c.async_exec(
        {"WAIT", to_decimal(std::int64_t(min_acks), n_buf), to_decimal(std::int64_t(timeout.count()), ms_buf)});
    if (!w)
      round->ec = w.error();
    else if (w->kind != redis::reply::type::integer)
      round->ec = make_error_code(contact_errc::redis_error);
    else if (w->integer < std::int64_t(min_acks))
      round->ec = make_error_code(contact_errc::replicas_behind);
    round->done = true;
    round->done_signal.cancel();
  }
  rounds->sending = false;
}

namespace {

// The opt-out script's keys and args (views into this struct's own strings).
struct optout_call {
  std::string hash, ev, field, value, number;
  contact_keys::change_keys changes;
  char at_buf[24], max_buf[24], len_buf[24];
  std::array<std::string_view, 4> keys;
  std::array<std::string_view, 7> args;

  optout_call(const contact_keys::pseudonymizer& p, const contact_store_options& o,
              model::phone_number n, std::string_view sender, model::sys_time at,
              std::string_view source, std::string_view evidence_id) {
    const contact_keys::number_keys k(p, n);
    hash = std::string(k.hash());
    ev = k.evidence();
    field = contact_keys::optout_field(sender);
    value = contact_codec::encode_optout(at, source, evidence_id);
    number = n.e164();
    changes = contact_keys::changes_for(hash, o.per_slot_changes);
    keys = {hash, ev, changes.stream, changes.counter};
    args = {field,
            to_decimal(to_us(at), at_buf),
            value,
            number,
            evidence_id,
            to_decimal(std::int64_t(o.max_evidence_ids), max_buf),
            to_decimal(std::int64_t(o.change_stream_length), len_buf)};
  }
  optout_call(const optout_call&) = delete;
};

}  // namespace

asio::awaitable<error_code> contact_store::async_load_scripts() {
  redis::pipeline p;
  for (std::string_view text : {contact_scripts::optout, contact_scripts::consent,
                                contact_scripts::commit, contact_scripts::forget})
    p.add({"SCRIPT", "LOAD", text});
  auto r = co_await exec(p);
  if (!r) co_return r.error();
  for (const auto& reply : *r)
    if (reply.is_error()) co_return make_error_code(contact_errc::redis_error);
  co_return error_code{};
}

asio::awaitable<result<bool>> contact_store::async_record_optout(model::phone_number n,
                                                                 std::string_view sender,
                                                                 model::sys_time at,
                                                                 std::string_view source,
                                                                 std::string_view evidence_id) {
  if (!contact_keys::valid_name(sender)) co_return failed(contact_errc::bad_sender);
  const optout_call c(keys_, opts_, n, sender, at, source, evidence_id);
  auto r = co_await acked_eval(optout_script(), c.keys, c.args);
  if (!r) co_return failed(r.error());
  if (r->kind != redis::reply::type::integer) co_return failed(contact_errc::bad_data);
  co_return r->integer == 1;
}

asio::awaitable<result<redis::reply>> contact_store::async_record_optout_then(
    model::phone_number n, std::string_view sender, model::sys_time at, std::string_view source,
    std::string_view evidence_id, const optout_followup& followup,
    std::span<const std::string_view> keys, std::span<const std::string_view> args) {
  if (!contact_keys::valid_name(sender)) co_return make_error_code(contact_errc::bad_sender);
  const optout_call c(keys_, opts_, n, sender, at, source, evidence_id);
  std::vector<std::string_view> all_keys(c.keys.begin(), c.keys.end()),
      all_args(c.args.begin(), c.args.end());
  all_keys.insert(all_keys.end(), keys.begin(), keys.end());
  all_args.insert(all_args.end(), args.begin(), args.end());
  co_return co_await acked_eval(followup.script(), all_keys, all_args);
}

optout_followup::optout_followup(std::string_view step_lua)
    : text_(contact_scripts::optout_then(step_lua)),
      script_(std::make_unique<redis::script>(text_)) {}

optout_followup::~optout_followup() = default;

asio::awaitable<result<std::string>> contact_store::async_record_consent(model::phone_number n,
                                                                         consent_record c) {
  auto r = co_await async_record_optin_impl(n, c, false);
  if (!r) co_return r.error();
  co_return std::move(r->consent_id);
}

asio::awaitable<result<optin_result>> contact_store::async_record_optin(model::phone_number n,
                                                                        consent_record c) {
  co_return co_await async_record_optin_impl(n, c, true);
}

asio::awaitable<result<optin_result>> contact_store::async_record_optin_impl(
    model::phone_number n, const consent_record& c, bool lift) {
  // "*" is the internal DNC: a sender's opt-in never lifts it, nor can a consent name it.
  if (!contact_keys::valid_name(c.fact.sender) || c.fact.sender == "*")
    co_return make_error_code(contact_errc::bad_sender);
  const contact_keys::number_keys k(keys_, n);
  // A consent recorded with its evidence gets the id derived from it (a replay of the log
  // writes the same consent again); one without evidence (tests, tools) a random one.
  optin_result out{.consent_id = c.fact.evidence_id.empty() ? new_id("cn_")
                                                           : contact_keys::consent_id_of(c.fact.evidence_id)};
  model::consent_fact fact = c.fact;
  fact.id = out.consent_id;
  const std::string details_key = k.details(), ev = k.evidence(),
                    lift_field = lift ? contact_keys::optout_field(fact.sender) : std::string(),
                    field = contact_keys::consent_field(fact.id),
                    value = contact_codec::encode_consent(fact),
                    details = contact_codec::encode_details(c.source), number = n.e164();
  char at_buf[24], max_buf[24], len_buf[24];
  const auto changes = contact_keys::changes_for(k.hash(), opts_.per_slot_changes);
  const std::string_view keys[] = {k.hash(), details_key, ev, changes.stream, changes.counter};
  const std::string_view args[] = {lift_field,
                                   to_decimal(to_us(fact.captured_at), at_buf),
                                   field,
                                   value,
                                   fact.id,
                                   details,
                                   number,
                                   fact.evidence_id,
                                   to_decimal(std::int64_t(opts_.max_evidence_ids), max_buf),
                                   to_decimal(std::int64_t(opts_.change_stream_length), len_buf)};
  auto r = co_await acked_eval(consent_script(), keys, args);
  if (!r) co_return r.error();
  if (r->kind != redis::reply::type::integer || r->integer < 0 || r->integer > 2)
    co_return make_error_code(contact_errc::bad_data);
  out.outcome = static_cast<optin_outcome>(r->integer);
  co_return out;
}

asio::awaitable<error_code> contact_store::async_commit_contact(const commit_item& item) {
  co_return co_await async_commit_many(std::span<const commit_item>(&item, 1));
}

void contact_store::add_commit(const commit_item& it, std::string_view sha) {
  const contact_keys::number_keys k(keys_, it.number);
  scratch_.assign(k.hash());
  scratch_ += ":cap:";
  scratch_ += it.campaign;
  char caps[contact_keys::tag_size + 5];
  std::copy_n(k.hash().data(), contact_keys::tag_size, caps);
  std::copy_n(":caps", 5, caps + contact_keys::tag_size);
  const std::int64_t at = to_us(it.at), window = it.window.count();
  char at_buf[24], trim_buf[24], max_buf[24], ttl_buf[24], exp_buf[24];
  // Unique even for two commits in the same microsecond from two gateways.
  char member[48];
  char* m = std::to_chars(member, member + 24, at).ptr;
  *m++ = ':';
  std::uint64_t v = rng_();
  for (int i = 0; i < 16; ++i, v >>= 4) *m++ = "0123456789abcdef"[v & 15];
  const std::string_view cmd[] = {"EVALSHA",
                                  sha,
                                  "2",
                                  scratch_,
                                  std::string_view(caps, sizeof caps),
                                  to_decimal(at, at_buf),
                                  std::string_view(member, std::size_t(m - member)),
                                  to_decimal(at - window, trim_buf),
                                  to_decimal(std::int64_t(opts_.max_contacts), max_buf),
                                  to_decimal((window + 999) / 1000 + ttl_margin_ms, ttl_buf),
                                  it.campaign,
                                  to_decimal(at + window, exp_buf)};
  pipe_.add(cmd);
}

asio::awaitable<error_code> contact_store::async_commit_many(std::span<const commit_item> items) {
  if (items.empty()) co_return error_code{};
  for (const commit_item& it : items) {
    if (!contact_keys::valid_name(it.campaign))
      co_return make_error_code(contact_errc::bad_campaign);
    if (it.window.count() <= 0) co_return make_error_code(contact_errc::bad_window);
  }
  const redis::script& s = commit_script();
  pipe_.clear();
  for (const commit_item& it : items) add_commit(it, s.sha);
  auto replies = co_await exec(pipe_);
  if (!replies) co_return replies.error();

  // A restarted Redis forgot the script: load it once and send the refused commits again
  // (a refused EVALSHA ran nothing, so this counts nothing twice).
  std::vector<std::size_t> again;
  for (std::size_t i = 0; i < replies->size(); ++i) {
    if (redis::is_noscript((*replies)[i]))
      again.push_back(i);
    else if ((*replies)[i].is_error())
      co_return make_error_code(contact_errc::redis_error);
  }
  if (again.empty()) co_return error_code{};
  pipe_.clear();
  const std::string_view load[] = {"SCRIPT", "LOAD", s.text};
  pipe_.add(load);
  for (std::size_t i : again) add_commit(items[i], s.sha);
  replies = co_await exec(pipe_);
  if (!replies) co_return replies.error();
  for (const redis::reply& r : *replies)
    if (r.is_error()) co_return make_error_code(contact_errc::redis_error);
  co_return error_code{};
}

}  // namespace stopgate::dnc::contacts
