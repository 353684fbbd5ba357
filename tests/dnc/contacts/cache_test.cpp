// The contact cache's freshness protocol without Redis: poll replies built by hand, as the
// poll script returns them ({counter, newest id, entries}).
#include "dnc/contacts/cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopgate::dnc::contacts {
namespace {

using redis::reply;

std::string hash_key(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "{c:%032x}", i);
  return buf;
}
cache_key key(int i) {
  return *cache_key::from_hash_key(hash_key(i));
}

reply str(std::string s) {
  reply r;
  r.kind = reply::type::string;
  r.str = std::move(s);
  return r;
}

// An entry with stream id `id` of change number `seq` naming number i's hash.
reply entry_at(std::string id, std::int64_t seq, int i) {
  reply fields;
  fields.kind = reply::type::array;
  fields.elements = {str("s"), str(std::to_string(seq)), str("k"), str(hash_key(i))};
  reply e;
  e.kind = reply::type::array;
  e.elements = {str(std::move(id)), fields};
  return e;
}

// Change `seq` as the Redis this cache follows numbers it: id (1000 + seq)-0.
reply entry(std::int64_t seq, int i) {
  return entry_at(std::to_string(1000 + seq) + "-0", seq, i);
}

// {counter, newest id, entries, marker}; `changes` are (seq, number) pairs.
reply poll(std::int64_t counter, std::vector<std::pair<std::int64_t, int>> changes,
           std::string marker = "") {
  reply r;
  r.kind = reply::type::array;
  reply c;
  c.kind = reply::type::integer;
  c.integer = counter;
  reply entries;
  entries.kind = reply::type::array;
  for (auto [s, i] : changes) entries.elements.push_back(entry(s, i));
  r.elements = {c, str(counter ? std::to_string(1000 + counter) + "-0" : ""), entries,
                str(std::move(marker))};
  return r;
}

model::number_facts with_optout(std::string sender) {
  model::number_facts f;
  f.optouts.push_back({std::move(sender), {}, "sms:STOP", "gw1-1"});
  return f;
}

contact_cache filled(int n) {
  contact_cache c;
  EXPECT_TRUE(c.apply_poll(poll(5, {})));  // positions at change 5
  for (int i = 0; i < n; ++i) c.insert(key(i), model::number_facts{});
  return c;
}

TEST(ContactCache, KeysComeOnlyFromWellFormedHashKeys) {
  EXPECT_TRUE(cache_key::from_hash_key(hash_key(7)));
  EXPECT_FALSE(cache_key::from_hash_key("{c:changes}"));
  EXPECT_FALSE(cache_key::from_hash_key("{c:" + std::string(32, 'G') + "}"));
  EXPECT_FALSE(cache_key::from_hash_key(hash_key(7) + ":cd"));
  EXPECT_NE(key(1), key(2));
}

TEST(ContactCache, NothingIsCachedBeforeThePositionIsKnown) {
  contact_cache c;
  c.insert(key(1), model::number_facts{});
  EXPECT_EQ(c.size(), 0u);
  EXPECT_TRUE(c.apply_poll(poll(0, {})));
  EXPECT_EQ(c.last_id(), "0-0");  // an empty stream is read from its start
  c.insert(key(1), model::number_facts{});
  EXPECT_NE(c.find(key(1)), nullptr);
}

TEST(ContactCache, ConsecutiveChangesDropOnlyTheNumbersTheyName) {
  contact_cache c = filled(4);
  ASSERT_TRUE(c.apply_poll(poll(7, {{6, 1}, {7, 3}})));
  EXPECT_NE(c.find(key(0)), nullptr);
  EXPECT_EQ(c.find(key(1)), nullptr);
  EXPECT_NE(c.find(key(2)), nullptr);
  EXPECT_EQ(c.find(key(3)), nullptr);
  EXPECT_EQ(c.invalidations(), 2u);
  EXPECT_EQ(c.drops(), 0u);
  EXPECT_EQ(c.last_id(), "1007-0");
}

TEST(ContactCache, AGapInTheChangesDropsEverything) {
  // Change 6 was trimmed from the stream before this reader saw it.
  contact_cache c = filled(4);
  ASSERT_TRUE(c.apply_poll(poll(8, {{7, 1}, {8, 2}})));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.drops(), 1u);
  // Positioned again: the next consecutive changes are applied normally.
  c.insert(key(0), model::number_facts{});
  ASSERT_TRUE(c.apply_poll(poll(9, {{9, 3}})));
  EXPECT_NE(c.find(key(0)), nullptr);
}

TEST(ContactCache, MoreChangesThanOnePollReadDropEverything) {
  // The counter is at 9 but only changes 6 and 7 came back (the poll's COUNT).
  contact_cache c = filled(4);
  ASSERT_TRUE(c.apply_poll(poll(9, {{6, 1}, {7, 2}})));
  EXPECT_EQ(c.size(), 0u);
}

TEST(ContactCache, ACounterThatWentBackwardsDropsEverything) {
  // A Redis that lost its data (restart without persistence, FLUSHALL, failover).
  contact_cache c = filled(4);
  ASSERT_TRUE(c.apply_poll(poll(2, {{1, 1}, {2, 2}})));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.drops(), 1u);
}

TEST(ContactCache, OldChangeNumbersOnNewEntriesMeanRedisLostItsDataAndDropEverything) {
  // Positioned at change 5 (id 1005-0). Redis lost everything and counted again: its new
  // entries carry numbers 1..6 on ids after 1005-0. Change 1 names number 2, which this
  // cache never dropped: skipping it as "already applied" would keep number 2 stale.
  contact_cache c = filled(4);
  reply r = poll(6, {});
  for (int s = 1; s <= 6; ++s)
    r.elements[2].elements.push_back(entry_at("2000-" + std::to_string(s), s, s == 1 ? 2 : 10 + s));
  ASSERT_TRUE(c.apply_poll(r));
  EXPECT_EQ(c.find(key(2)), nullptr);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.drops(), 1u);
}

TEST(ContactCache, ALossIsFlaggedUntilARebuildMarkerAppears) {
  contact_cache c = filled(4);
  EXPECT_FALSE(c.data_lost());
  // FLUSHALL: the counter is back at 0; the marker of an earlier rebuild went with it.
  ASSERT_TRUE(c.apply_poll(poll(0, {}, "")));
  EXPECT_TRUE(c.data_lost());
  EXPECT_EQ(c.data_losses(), 1u);
  // New writes after the loss neither clear the flag nor count as another loss.
  ASSERT_TRUE(c.apply_poll(poll(2, {{1, 1}, {2, 2}}, "")));
  EXPECT_TRUE(c.data_lost());
  EXPECT_EQ(c.data_losses(), 1u);
  // `stopgatectl contacts rebuild` set its marker: cleared.
  ASSERT_TRUE(c.apply_poll(poll(40, {}, "run-1")));
  EXPECT_FALSE(c.data_lost());
  // A later loss that keeps the old marker (a replica that missed the last writes) is seen
  // too, and only a new rebuild clears it.
  ASSERT_TRUE(c.apply_poll(poll(35, {}, "run-1")));
  EXPECT_TRUE(c.data_lost());
  ASSERT_TRUE(c.apply_poll(poll(36, {{36, 1}}, "run-1")));
  EXPECT_TRUE(c.data_lost());
  ASSERT_TRUE(c.apply_poll(poll(80, {}, "run-2")));
  EXPECT_FALSE(c.data_lost());
  EXPECT_EQ(c.data_losses(), 2u);
}

TEST(ContactCache, ALossIsSeenAfterAResetToo) {
  // The usual shape of a Redis restart without persistence: the connection broke (reset),
  // and the Redis that answers next counts from 0.
  contact_cache c = filled(4);
  c.reset();
  ASSERT_TRUE(c.apply_poll(poll(3, {})));
  EXPECT_TRUE(c.data_lost());
  // A reset against the same Redis is no loss.
  contact_cache d = filled(4);
  d.reset();
  ASSERT_TRUE(d.apply_poll(poll(5, {})));
  EXPECT_FALSE(d.data_lost());
}

TEST(ContactCache, RenumberedEntriesAreALoss) {
  contact_cache c = filled(4);
  reply r = poll(6, {});
  for (int s = 1; s <= 6; ++s) r.elements[2].elements.push_back(entry_at("2000-" + std::to_string(s), s, 9));
  ASSERT_TRUE(c.apply_poll(r));
  EXPECT_TRUE(c.data_lost());
  // A gap alone (a reader that fell behind) is not.
  contact_cache d = filled(4);
  ASSERT_TRUE(d.apply_poll(poll(8, {{7, 1}, {8, 2}})));
  EXPECT_FALSE(d.data_lost());
}

TEST(ContactCache, ChangesAlreadyAppliedByAnOverlappingPollAreSkipped) {
  // Two pipelines were sent from position 5; the first one applied 6 and 7.
  contact_cache c = filled(4);
  ASSERT_TRUE(c.apply_poll(poll(7, {{6, 1}, {7, 2}})));
  c.insert(key(1), model::number_facts{});  // read after the first poll
  ASSERT_TRUE(c.apply_poll(poll(8, {{6, 1}, {7, 2}, {8, 3}})));
  EXPECT_NE(c.find(key(1)), nullptr);
  EXPECT_EQ(c.find(key(3)), nullptr);
  EXPECT_EQ(c.drops(), 0u);
}

TEST(ContactCache, AReplyThatIsNotAPollResetsEverything) {
  contact_cache c = filled(4);
  reply err;
  err.kind = reply::type::error;
  err.str = "ERR something";
  EXPECT_FALSE(c.apply_poll(err));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.positioned());
  EXPECT_EQ(c.last_id(), "");
  // Malformed entries are a gap too.
  contact_cache d = filled(2);
  reply bad = poll(6, {});
  bad.elements[2].elements.push_back(str("not an entry"));
  ASSERT_TRUE(d.apply_poll(bad));
  EXPECT_EQ(d.size(), 0u);
}

TEST(ContactCache, StaysWithinItsByteBudget) {
  contact_cache_options o;
  o.max_bytes = 64 << 10;
  contact_cache c(o);
  ASSERT_TRUE(c.apply_poll(poll(0, {})));
  for (int i = 0; i < 20'000; ++i) {
    c.insert(key(i), i % 3 ? model::number_facts{} : with_optout("a-sender-name-longer-than-sso"));
    ASSERT_LE(c.bytes(), o.max_bytes);
  }
  EXPECT_GT(c.size(), 100u);
  EXPECT_LT(c.size(), 20'000u);
  // The most recent insert is always kept.
  EXPECT_NE(c.find(key(19'999)), nullptr);
}

TEST(ContactCache, UnavailableOrOversizedFactsAreNotKept) {
  contact_cache_options o;
  o.max_facts_per_number = 2;
  contact_cache c(o);
  ASSERT_TRUE(c.apply_poll(poll(0, {})));
  model::number_facts unavailable;
  unavailable.available = false;
  c.insert(key(1), unavailable);
  model::number_facts many;
  for (int i = 0; i < 3; ++i) many.optouts.push_back({"s" + std::to_string(i), {}, "api", "e"});
  c.insert(key(2), many);
  c.insert(key(3), with_optout("acme"));
  EXPECT_EQ(c.find(key(1)), nullptr);
  EXPECT_EQ(c.find(key(2)), nullptr);
  ASSERT_NE(c.find(key(3)), nullptr);
  EXPECT_EQ(c.find(key(3))->optouts.at(0).sender, "acme");
  // Counters are never cached.
  model::number_facts counted = with_optout("beta");
  counted.recent_contacts.push_back({});
  c.insert(key(4), counted);
  ASSERT_NE(c.find(key(4)), nullptr);
  EXPECT_TRUE(c.find(key(4))->recent_contacts.empty());
  // A number without facts is cached too (as "nothing").
  c.insert(key(5), model::number_facts{});
  ASSERT_NE(c.find(key(5)), nullptr);
  EXPECT_TRUE(c.find(key(5))->optouts.empty() && c.find(key(5))->available);
}

TEST(ContactCache, CollidingNumbersStayFindableAcrossInvalidationsAndGrowth) {
  // Keys whose hash shares its low bits land in one probe run; some runs wrap past the
  // table's end. Dropping entries from the middle of such runs must keep the rest findable.
  contact_cache c;
  ASSERT_TRUE(c.apply_poll(poll(0, {})));
  std::vector<int> ids;
  for (int k = 0; k < 150; ++k) {
    ids.push_back(k * 4096 + 1);     // the same slot while the table has at most 4,096
    ids.push_back(k * 4096 + 4095);  // the last slot: the run wraps to the start
  }
  for (int id : ids)
    c.insert(key(id), id % 3 ? model::number_facts{} : with_optout("s" + std::to_string(id)));
  ASSERT_EQ(c.size(), ids.size());
  std::vector<std::pair<std::int64_t, int>> changes;
  for (std::size_t i = 0; i < ids.size(); i += 3)
    changes.emplace_back(std::int64_t(changes.size()) + 1, ids[i]);
  ASSERT_TRUE(c.apply_poll(poll(std::int64_t(changes.size()), changes)));
  EXPECT_EQ(c.invalidations(), changes.size());
  EXPECT_EQ(c.drops(), 0u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const model::number_facts* f = c.find(key(ids[i]));
    if (i % 3 == 0) {
      EXPECT_EQ(f, nullptr) << ids[i];
    } else {
      ASSERT_NE(f, nullptr) << ids[i];
      EXPECT_EQ(f->optouts.empty(), ids[i] % 3 != 0) << ids[i];
      if (ids[i] % 3 == 0) {
        EXPECT_EQ(f->optouts.at(0).sender, "s" + std::to_string(ids[i]));
      }
    }
  }
  EXPECT_EQ(c.size(), ids.size() - changes.size());
  EXPECT_EQ(c.find(key(7)), nullptr);  // never cached, in a crowded table
}

TEST(ContactCache, ALargeTableKeepsEveryNumber) {
  // 100,000 numbers: the table grows past 2 MiB (the huge-page allocation) and keeps them all.
  contact_cache c;
  ASSERT_TRUE(c.apply_poll(poll(0, {})));
  constexpr int n = 100'000;
  for (int i = 0; i < n; ++i)
    c.insert(key(i * 7 + 3), i % 1000 ? model::number_facts{} : with_optout("big"));
  ASSERT_EQ(c.size(), std::size_t(n));
  EXPECT_LE(c.bytes(), c.options().max_bytes);
  for (int i = 0; i < n; ++i) {
    const model::number_facts* f = c.find(key(i * 7 + 3));
    ASSERT_NE(f, nullptr) << i;
    ASSERT_EQ(f->optouts.size(), i % 1000 ? 0u : 1u) << i;
  }
  EXPECT_EQ(c.find(key(1)), nullptr);
}

}  // namespace
}  // namespace stopgate::dnc::contacts
