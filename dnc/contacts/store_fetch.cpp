// The contact store's read path. Fetches started in one turn of the executor are coalesced
// into one pipeline (one client call, one write, one deadline); with the cache on, the
// pipeline begins with the change-stream poll and carries HGETALL only for numbers not
// cached. The poll is applied before anything is answered from the cache.
#include "dnc/contacts/codec.hpp"
#include "dnc/contacts/scripts.hpp"
#include "dnc/contacts/store.hpp"

#include "redis/slot.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_set>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
using contact_codec::to_decimal;
using contact_codec::to_us;

// A fetch whose cached answer was dropped while it was in flight (the number changed) is
// sent again; from this attempt on it reads every hash.
constexpr int cached_attempts = 2;
constexpr std::uint32_t no_reply = std::numeric_limits<std::uint32_t>::max();
// The fewest numbers a fetch round on a cluster must hold to use the cache (and its barrier).
constexpr std::size_t tracked_min_round = 16;

// Fills optouts and consents from a HGETALL reply; false on anything the store did not write.
bool parse_hash(const redis::reply& h, model::number_facts& f) {
  if (h.kind != redis::reply::type::array || h.elements.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < h.elements.size(); i += 2) {
    const std::string_view field = h.elements[i].str;
    const std::string_view value = h.elements[i + 1].str;
    if (field.starts_with("o:")) {
      model::optout_fact& o = f.optouts.emplace_back();
      o.sender.assign(field.substr(2));
      if (!contact_codec::decode_optout(value, o)) return false;
    } else if (field.starts_with("c:")) {
      model::consent_fact& c = f.consents.emplace_back();
      c.id.assign(field.substr(2));
      if (!contact_codec::decode_consent(value, c)) return false;
    }
  }
  return true;
}

bool capped(const fetch_item& it) {
  return !it.campaign.empty() && it.window.has_value();
}

// Where one item's answers are in the pipeline's replies.
struct item_slot {
  item_slot(const contact_keys::pseudonymizer& p, model::phone_number n) : keys(p, n) {}
  contact_keys::number_keys keys;        // computed once, before the cache lookups
  std::uint32_t hash_reply = no_reply;   // no_reply: answered from the cache
  std::uint32_t range_reply = no_reply;  // no_reply: no counter read
  cache_key key;
  bool keyed = false;
  const model::number_facts* cached = nullptr;  // valid while the cache's erasures() is unchanged
  // On a cluster: the number's slot, whether its node tracked reads when the pipeline was
  // built (a miss read then may be cached), and its place in the barrier's answer.
  std::uint16_t slot = 0;
  bool tracked = false;
  std::uint32_t barrier_at = no_reply;
};

}  // namespace

struct contact_store::fetch_waiter {
  fetch_waiter(const asio::any_io_executor& ex, std::span<const fetch_item> i, model::sys_time t)
      : items(i), at(t), wake(ex, asio::steady_timer::time_point::max()) {}
  std::span<const fetch_item> items;
  model::sys_time at;
  result<std::vector<model::number_facts>> out{boost::system::in_place_error,
                                               make_error_code(contact_errc::bad_data)};
  asio::steady_timer wake;  // cancelled when `out` is set
  int attempts = 0;
  bool done = false;
  bool abandoned = false;  // the caller was cancelled: `items` may no longer be read

  void finish() {
    done = true;
    wake.cancel();  // the waiter resumes through the executor, never inline
  }
};

asio::awaitable<result<std::vector<model::number_facts>>> contact_store::async_fetch(
    std::span<const fetch_item> items, model::sys_time at) {
  if (items.empty()) co_return std::vector<model::number_facts>{};
  for (const fetch_item& it : items) {
    if (!capped(it)) continue;
    if (!contact_keys::valid_name(it.campaign))
      co_return make_error_code(contact_errc::bad_campaign);
    if (it.window->count() <= 0) co_return make_error_code(contact_errc::bad_window);
  }
  co_return co_await queue_fetch(items, at);
}

asio::awaitable<error_code> contact_store::async_poll_changes() {
  if (!cache_ || tracked_) co_return error_code{};
  // A fetch of nothing: its pipeline carries the poll alone, applied like every other.
  auto r = co_await queue_fetch({}, model::sys_time{});
  co_return r ? error_code{} : r.error();
}

asio::awaitable<result<std::vector<model::number_facts>>> contact_store::queue_fetch(
    std::span<const fetch_item> items, model::sys_time at) {
  auto w = std::make_shared<fetch_waiter>(co_await asio::this_coro::executor, items, at);
  queued_.push_back(w);
  post_flush(w->wake.get_executor());
  auto [ec] = co_await w->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!w->done) {
    // Cancelled by the caller (e.g. an awaitable operator): the flush skips this fetch.
    w->abandoned = true;
    co_return ec ? ec : make_error_code(asio::error::operation_aborted);
  }
  co_return std::move(w->out);
}

void contact_store::post_flush(const asio::any_io_executor& ex) {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Posted, so every fetch started in this turn joins the pipeline (co_spawn alone would run
  // the flush inline, at once).
  asio::post(ex, [this, ex] { asio::co_spawn(ex, flush(), asio::detached); });
}

asio::awaitable<void> contact_store::flush() {
  flush_posted_ = false;
  std::vector<std::shared_ptr<fetch_waiter>> batch;
  batch.swap(queued_);
  std::erase_if(batch, [](const auto& w) { return w->abandoned; });
  if (batch.empty()) co_return;
  std::size_t total = 0;
  for (const auto& w : batch) total += w->items.size();
  // On a cluster the cache follows invalidations (see the barrier below). A round of a few
  // numbers reads them from Redis instead: one read per number costs it less time than the
  // barrier, which waits on a second connection per node.
  const bool tracked = tracked_ && total >= tracked_min_round;
  contact_cache* const cache = tracked_ && !tracked ? nullptr : cache_.get();
  std::vector<item_slot> slots;
  slots.reserve(total);

  pipe_.clear();
  std::vector<std::uint16_t> bslots;  // the slot of each number the barrier must cover
  std::uint32_t n = 0;
  char count_buf[24];
  // On a cluster the cache follows invalidations instead of the stream (see the barrier below).
  const std::uint64_t epoch = tracked ? redis_.tracking_epoch() : 0;
  const std::uint64_t marker_epoch = marker_epoch_;
  // Slots whose marker this round creates (SET NX) and reads (EXISTS, tracked): their numbers
  // are read from Redis this time, and may be cached once the marker's read is back.
  struct marker_read {
    std::uint16_t slot;
    std::uint32_t reply;
  };
  std::vector<marker_read> markers;
  std::vector<std::uint8_t> asked;  // allocated on the first slot without a marker
  if (cache && !tracked) {
    // EVAL, not EVALSHA: a restarted Redis needs no NOSCRIPT round, and the text is short.
    const std::string_view cmd[] = {
        "EVAL",
        contact_scripts::poll,
        "3",
        change_stream_key,
        change_counter_key,
        rebuild_marker_key,
        cache->last_id(),
        to_decimal(std::int64_t(cache->options().max_changes_per_poll), count_buf)};
    pipe_.add(cmd);
    ++n;
  }
  // Every number's keys first, prefetching its cache slot, then the lookups: a batch's cache
  // misses (the table is larger than the CPU caches) overlap instead of coming one by one.
  for (const auto& w : batch)
    for (const fetch_item& it : w->items) {
      item_slot& s = slots.emplace_back(keys_, it.number);
      if (!cache) continue;
      auto key = cache_key::from_hash_key(s.keys.hash());
      s.keyed = key.has_value();
      if (!key) continue;
      s.key = *key;
      cache->prefetch(s.key);
      if (tracked) {
        s.slot = redis::key_slot(s.keys.hash());
        s.tracked = redis_.tracked(s.slot);
      }
    }
  char max_buf[24];
  const std::string_view max_s = to_decimal(std::int64_t(opts_.max_contacts), max_buf);
  std::size_t slot_index = 0;
  for (const auto& w : batch) {
    const bool use_cache = cache && cache->positioned() && w->attempts < cached_attempts;
    const bool may_keep = !tracked || w->attempts < cached_attempts;
    char at_buf[24];
    const std::string_view at_s = to_decimal(to_us(w->at), at_buf);
    for (const fetch_item& it : w->items) {
      item_slot& s = slots[slot_index++];
      const contact_keys::number_keys& k = s.keys;
      if (tracked && s.tracked && !marker_armed_[s.slot]) {
        if (asked.empty()) asked.assign(redis::slot_count, 0);
        if (!asked[s.slot]) {
          asked[s.slot] = 1;
          const std::string marker = contact_keys::slot_marker(s.slot);
          const std::string_view set[] = {"SET", marker, "1", "NX"};
          const std::string_view exists[] = {"EXISTS", marker};
          pipe_.add(set);
          pipe_.add(exists);
          n += 2;
          markers.push_back({s.slot, n - 1});
        }
      } else if (use_cache && s.keyed && (!tracked || s.tracked)) {
        s.cached = cache->find(s.key);
      }
      if (tracked && s.tracked && (s.cached || may_keep)) {
        s.barrier_at = std::uint32_t(bslots.size());
        bslots.push_back(s.slot);
      }
      if (!s.cached) {
        const std::string_view hgetall[] = {"HGETALL", k.hash()};
        pipe_.add(hgetall);
        s.hash_reply = n++;
      }
      if (!capped(it)) continue;
      scratch_.assign(k.hash());
      scratch_ += ":cap:";
      scratch_ += it.campaign;
      // Newest first with a limit, so a flood of commits cannot hide the latest ones.
      char lo_buf[25];
      lo_buf[0] = '(';
      char* lo_end =
          std::to_chars(lo_buf + 1, lo_buf + sizeof lo_buf, to_us(w->at) - it.window->count()).ptr;
      const std::string_view range[] = {"ZREVRANGEBYSCORE",
                                        scratch_,
                                        at_s,
                                        std::string_view(lo_buf, std::size_t(lo_end - lo_buf)),
                                        "LIMIT",
                                        "0",
                                        max_s};
      pipe_.add(range);
      s.range_reply = n++;
    }
  }

  const std::uint64_t erasures = cache ? cache->erasures() : 0;
  result<std::vector<redis::reply>> replies = make_error_code(contact_errc::bad_data);
  std::vector<std::uint8_t> verdict;
  std::unordered_set<cache_key, cache_key_hash> changed;  // invalidated while in flight
  bool log_full = false;
  if (tracked && !bslots.empty()) {
    // The barrier (every write the nodes applied before it has had its invalidation
    // delivered, and they are still primaries) runs beside the reads.
    using namespace asio::experimental::awaitable_operators;
    const std::uint64_t seq0 = inval_seq_;
    inval_since_.insert(seq0);
    // A copy: the operator may start both after this coroutine suspends, when another flush
    // may already be filling pipe_.
    const redis::pipeline p = pipe_;
    auto [r, v] = co_await (exec(p) && redis_.async_tracking_barrier(bslots));
    replies = std::move(r);
    verdict = std::move(v);
    for (auto it = inval_log_.rbegin(); it != inval_log_.rend() && it->second > seq0; ++it)
      changed.insert(it->first);
    log_full = inval_log_overflow_ > seq0;
    inval_since_.erase(inval_since_.find(seq0));
    // What no fetch in flight can need any more goes.
    const std::uint64_t keep_after = inval_since_.empty() ? inval_seq_ : *inval_since_.begin();
    while (!inval_log_.empty() && inval_log_.front().second <= keep_after) inval_log_.pop_front();
  } else {
    // A small round on a cluster goes on the untracked client: nothing it reads is cached.
    replies = co_await exec(pipe_, tracked_ && !tracked ? opts_.untracked_reads : nullptr);
  }
  // A cached answer or a read may be kept only when nothing could have slipped meanwhile.
  const bool epoch_held = tracked && redis_.tracking_epoch() == epoch && !log_full &&
                          marker_epoch_ == marker_epoch;
  if (epoch_held && replies && replies->size() == n)
    for (const marker_read& m : markers) {
      const redis::reply& r = (*replies)[m.reply];
      if (r.kind == redis::reply::type::integer && r.integer == 1) marker_armed_[m.slot] = 1;
    }
  auto barrier_ok = [&](const item_slot& s) {
    return epoch_held && s.barrier_at != no_reply && s.barrier_at < verdict.size() &&
           verdict[s.barrier_at] != 0 && marker_armed_[s.slot] != 0;
  };
  if (!replies || replies->size() != n) {
    // The next Redis to answer may not be the one whose stream the cache followed.
    if (cache && !tracked) cache->reset();
    const error_code ec = replies ? make_error_code(contact_errc::bad_data) : replies.error();
    for (const auto& w : batch) {
      w->out = ec;
      w->finish();
    }
    co_return;
  }
  // Before anything is answered from the cache: drop what changed since the last poll.
  const bool may_insert = cache && (tracked ? epoch_held : cache->apply_poll((*replies)[0]));

  std::vector<std::vector<model::number_facts>> outs(batch.size());
  std::vector<bool> again(batch.size(), false);
  // Cached answers first, so that inserting the misses (which may evict) cannot drop them.
  for (std::size_t b = 0, si = 0; b < batch.size(); ++b) {
    outs[b].resize(batch[b]->items.size());
    for (std::size_t i = 0; i < batch[b]->items.size(); ++i, ++si) {
      const item_slot& s = slots[si];
      if (s.hash_reply != no_reply) continue;
      // Nothing removed since the pipeline was built: the pointer taken then still holds.
      const model::number_facts* c = cache->erasures() == erasures ? s.cached : cache->find(s.key);
      if (tracked && !barrier_ok(s)) c = nullptr;
      if (!c) {
        // Changed (or evicted) while in flight: this fetch is read again.
        again[b] = true;
        continue;
      }
      outs[b][i].optouts = c->optouts;
      outs[b][i].consents = c->consents;
    }
  }
  for (std::size_t b = 0, si = 0; b < batch.size(); ++b) {
    fetch_waiter& w = *batch[b];
    for (std::size_t i = 0; i < w.items.size(); ++i, ++si) {
      const item_slot& s = slots[si];
      model::number_facts& f = outs[b][i];
      bool ok = true;
      if (s.hash_reply != no_reply) {
        ok = parse_hash((*replies)[s.hash_reply], f);
        // Read after this pipeline's poll: fresh as of the position the cache now holds.
        if (ok && may_insert && s.keyed &&
            (!tracked || (barrier_ok(s) && !changed.contains(s.key))))
          cache->insert(s.key, f);
      }
      if (s.range_reply != no_reply) {
        ok = ok &&
             contact_codec::parse_contact_members((*replies)[s.range_reply], f.recent_contacts);
        std::reverse(f.recent_contacts.begin(), f.recent_contacts.end());
      }
      // What cannot be read cannot be relied on: fail closed for this number only.
      if (!ok) {
        f = model::number_facts{};
        f.available = false;
      }
    }
    if (w.abandoned) continue;
    if (again[b]) {
      ++w.attempts;
      queued_.push_back(batch[b]);
      continue;
    }
    w.out = std::move(outs[b]);
    w.finish();
  }
  if (!queued_.empty()) post_flush(batch.front()->wake.get_executor());
}

}  // namespace stopgate::dnc::contacts
