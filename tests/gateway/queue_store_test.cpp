// The outbound queue's Redis scripts on their own (gateway/queue/store.hpp): claims, tokens,
// leases, the two ways a lease runs out, removal, bounds, rate-limit booking; on one Redis and
// on a cluster (slot-local shards).
#include "gateway/queue/store.hpp"
#include "redis/slot.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/store_bench.hpp"

#include <gtest/gtest.h>

#include <set>

namespace stopgate::test {
namespace {

namespace asio = boost::asio;
using gateway::queue::claimed_kind;
using gateway::queue::claimed_message;
using gateway::queue::enqueue_result;
using gateway::queue::queue_store;
using gateway::queue::rate_limit;

using claims = std::vector<claimed_message>;

struct queue_bench : store_bench {
  using store_bench::store_bench;
  queue_store q{4, 1000};

  enqueue_result enqueue(const std::string& id, const std::string& state, std::int64_t due) {
    return run([&]() -> asio::awaitable<enqueue_result> {
      auto r = co_await q.async_enqueue(c(), id, "{\"p\":\"" + id + "\"}", state, due);
      co_return r.value();
    });
  }
  claims claim(const std::string& shard, std::int64_t now, std::size_t limit, std::int64_t lease_end,
               const std::string& token = "t") {
    return run([&]() -> asio::awaitable<claims> {
      co_return (co_await q.async_claim(c(), shard, now, limit, lease_end, token)).value();
    });
  }
  bool move(const claimed_message& m, const std::string& state, std::int64_t due) {
    return run([&]() -> asio::awaitable<bool> {
      co_return (co_await q.async_move(c(), m.shard, m.id, m.token, state, due)).value();
    });
  }
  // The removed payload, "" when absent, "submitting" when left alone.
  std::string remove(const std::string& id) {
    return run([&]() -> asio::awaitable<std::string> {
      auto r = (co_await q.async_remove(c(), id)).value();
      using kind = queue_store::removal::kind;
      co_return r.what == kind::removed      ? r.payload
                : r.what == kind::submitting ? std::string("submitting")
                                             : std::string();
    });
  }
  std::int64_t book(const std::vector<rate_limit>& l, std::int64_t now_us, std::int64_t horizon) {
    return run([&]() -> asio::awaitable<std::int64_t> {
      co_return (co_await q.async_book(c(), l, now_us, horizon)).value();
    });
  }
};

TEST(QueueStore, AClaimLeasesDueMessagesToOneTokenAndOnlyThatTokenMovesThem) {
  redis_server r;
  queue_bench b(r);
  ASSERT_EQ(b.enqueue("m1", "queued", 1000), enqueue_result::queued);
  ASSERT_EQ(b.enqueue("m2", "held|quiet_hours", 2000), enqueue_result::queued);
  ASSERT_EQ(b.enqueue("m3", "queued", 5000), enqueue_result::queued);
  EXPECT_EQ(b.enqueue("m1", "queued", 1000), enqueue_result::duplicate);

  auto got = b.claim("sg:q", 2000, 10, 3000, "A");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "m1");
  EXPECT_EQ(got[0].payload, "{\"p\":\"m1\"}");
  EXPECT_EQ(got[0].kind, claimed_kind::due);
  EXPECT_EQ(got[1].previous_state, "held|quiet_hours");
  EXPECT_NE(got[0].token, got[1].token);
  EXPECT_TRUE(b.claim("sg:q", 2999, 10, 9000, "B").empty()) << "leased until 3000";

  // Only the holder's token moves a message.
  claimed_message forged = got[0];
  forged.token = "B.1";
  EXPECT_FALSE(b.move(forged, "", 0));
  EXPECT_TRUE(b.move(got[0], "held|send_at", 4000));
  EXPECT_EQ(r.cli("HGET {sg:q}:state m1"), "held|send_at");
  EXPECT_EQ(r.cli("ZSCORE {sg:q}:due m1"), "4000");

  // m2's lease runs out: the next claim takes it with a new token, and the old one is void.
  auto again = b.claim("sg:q", 3000, 10, 6000, "B");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "m2");
  EXPECT_TRUE(again[0].previous_state.starts_with("claimed|A"));
  EXPECT_FALSE(b.move(got[1], "", 0)) << "the first holder lost it";
  EXPECT_TRUE(b.move(again[0], "", 0));
  EXPECT_EQ(r.cli("HEXISTS {sg:q}:msg m2"), "0");
  EXPECT_EQ(r.cli("HEXISTS {sg:q}:state m2"), "0");
}

TEST(QueueStore, ALeaseThatRunsOutWhileSubmittingEndsUnknownAndIsNeverDueAgain) {
  redis_server r;
  queue_bench b(r);
  ASSERT_EQ(b.enqueue("m1", "queued", 1000), enqueue_result::queued);
  auto got = b.claim("sg:q", 1000, 10, 2000, "A");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(b.move(got[0], "submitting", 60000));
  EXPECT_EQ(r.cli("HGET {sg:q}:state m1"), "submitting|" + got[0].token);
  EXPECT_EQ(b.remove("m1"), "submitting") << "a message a carrier may be taking is not removed";
  EXPECT_TRUE(b.claim("sg:q", 59999, 10, 70000, "B").empty());

  auto late = b.claim("sg:q", 60000, 10, 70000, "B");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].kind, claimed_kind::unknown) << "its carrier request may have gone out";
  // Its reporter dies too: the next claimant reports it, still as unknown.
  auto later = b.claim("sg:q", 70000, 10, 80000, "C");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].kind, claimed_kind::unknown);
  EXPECT_TRUE(b.move(later[0], "", 0));
  EXPECT_EQ(r.cli("ZCARD {sg:q}:due"), "0");
}

TEST(QueueStore, RemoveTakesAnyMessageNotBeingSubmittedAndTheBoundRefusesMore) {
  redis_server r;
  queue_bench b(r);
  b.q = queue_store(4, 2);
  ASSERT_EQ(b.enqueue("m1", "held|send_at", 9000), enqueue_result::queued);
  ASSERT_EQ(b.enqueue("m2", "queued", 1000), enqueue_result::queued);
  EXPECT_EQ(b.enqueue("m3", "queued", 1000), enqueue_result::full);
  EXPECT_EQ(b.remove("m1"), "{\"p\":\"m1\"}");
  EXPECT_EQ(b.remove("m1"), "");
  EXPECT_EQ(b.enqueue("m3", "queued", 1000), enqueue_result::queued);
  // A claimed one can be removed (its holder's next move fails and it does nothing more).
  auto got = b.claim("sg:q", 1000, 10, 2000, "A");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(b.remove("m2"), "");
  EXPECT_FALSE(b.move(got[0].id == "m2" ? got[0] : got[1], "submitting", 5000));
}

TEST(QueueStore, BookingSpacesSlotsUnderEveryLimitAtOnceAndRefusesBeyondTheHorizon) {
  redis_server r;
  queue_bench b(r);
  const std::vector<rate_limit> carrier{{"{sg:rl}:carrier:x:s", 1000}};      // 1,000/s
  const std::vector<rate_limit> both{{"{sg:rl}:carrier:x:s", 1000},
                                     {"{sg:rl}:from:+1:s", 500'000}};         // 2/s
  const std::int64_t t = 1'800'000'000'000'000;
  EXPECT_EQ(b.book(carrier, t, 1'000'000), 0);
  EXPECT_EQ(b.book(carrier, t, 1'000'000), 1000);
  EXPECT_EQ(b.book(carrier, t, 1'000'000), 2000);
  // The number's limit is emptier but the carrier's decides; both move on together.
  EXPECT_EQ(b.book(both, t, 1'000'000), 3000);
  EXPECT_EQ(b.book(both, t, 1'000'000), 503000);
  // Beyond the horizon nothing is booked.
  EXPECT_EQ(b.book(both, t, 100'000), -1'003'000);
  EXPECT_EQ(b.book(carrier, t, 1'000'000), 504000);
  EXPECT_EQ(b.book({}, t, 0), 0);
}

TEST(QueueStoreCluster, ShardsAreSlotLocalAndSpreadAndEveryMessageIsClaimedOnce) {
  redis_cluster cl(3, 0);
  queue_bench b(cl.url());
  std::set<std::uint16_t> slots;
  for (const auto& s : b.q.shards(b.c())) slots.insert(redis::key_slot("{" + s + "}:due"));
  EXPECT_EQ(slots.size(), 4u);
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    const auto id = "m" + std::to_string(i);
    ASSERT_EQ(b.enqueue(id, "queued", 1000), enqueue_result::queued);
    ids.insert(id);
  }
  std::set<std::string> claimed;
  for (const auto& s : b.q.shards(b.c()))
    for (auto& m : b.claim(s, 1000, 100, 5000)) {
      EXPECT_EQ(m.shard, s);
      EXPECT_EQ(b.q.shard_of(b.c(), m.id), s);
      EXPECT_TRUE(claimed.insert(m.id).second);
    }
  EXPECT_EQ(claimed, ids);
}

}  // namespace
}  // namespace stopgate::test
