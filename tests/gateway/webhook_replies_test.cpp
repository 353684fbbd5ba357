// The reply queue: the Redis scripts on their own (claims, the 24 h marker, leases), and the
// drainers' retry / give-up / at-most-once behaviour with an injected clock.
#include "dnc/contacts/keys.hpp"
#include "redis/slot.hpp"
#include "tests/gateway/webhook_test_support.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/store_bench.hpp"

#include <set>

namespace stopgate::test {
namespace {

using webhooks::claim_state;
using webhooks::enqueue_state;
using webhooks::inbound_store;
using webhooks::send_verdict;

class WebhookStore : public shared_redis<> {};

// On a cluster each reply waits in its number's slot queue ({c:sN}:in:q); drainers find those
// queues through the index {sg:in}:due, and the sweep re-lists a queue a race left out of it.
TEST(WebhookStoreCluster, SlotQueuesAreFoundThroughTheIndexAndTheSweepRepairsIt) {
  redis_cluster cl(3, 0);
  store_bench b(cl.url());
  inbound_store st;
  const std::vector<std::string> homes = {
      std::string(dnc::contacts::contact_keys::slot_tag(100)),
      std::string(dnc::contacts::contact_keys::slot_tag(6000)),
      std::string(dnc::contacts::contact_keys::slot_tag(12000))};
  auto finish = [&](const std::string& home, const std::string& id) {
    webhooks::reply_to_queue q{id, 1000, "{\"x\":1}",
                               webhooks::marker_key(home, "+14155552671", id)};
    return b.run([&]() -> asio::awaitable<boost::system::result<enqueue_state>> {
      co_return co_await st.async_finish(b.c(), home, webhooks::message_key(home, "sandbox", "+1", id), q);
    });
  };
  auto claim = [&]() {
    return b.run([&]() -> asio::awaitable<std::vector<webhooks::claimed_reply>> {
      co_return *co_await st.async_claim_due(b.c(), 1000, 16);
    });
  };
  auto index = [&](const std::string& cmd) {
    return cl.cli(cl.primary_of_slot(redis::key_slot("{sg:in}:due")), cmd);
  };
  for (std::size_t i = 0; i < homes.size(); ++i) {
    auto f = finish(homes[i], "r" + std::to_string(i));
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(*f, enqueue_state::queued);
  }
  EXPECT_EQ(index("ZCARD {sg:in}:due"), "3");
  auto got = claim();
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> from;
  for (auto& g : got) {
    from.insert(g.home);
    b.run([&]() -> asio::awaitable<int> {
      co_await st.async_complete(b.c(), g.home, g.id);
      co_return 0;
    });
  }
  EXPECT_EQ(from, std::set<std::string>(homes.begin(), homes.end()));
  EXPECT_TRUE(claim().empty());
  EXPECT_EQ(index("ZCARD {sg:in}:due"), "0");  // empty queues leave the index

  // A reply queued while a drainer dropped its queue from the index: not found until a sweep.
  auto f = finish(homes[1], "late");
  ASSERT_TRUE(f && *f == enqueue_state::queued);
  index("ZREM {sg:in}:due " + homes[1]);
  EXPECT_TRUE(claim().empty());
  auto swept = b.run([&]() -> asio::awaitable<boost::system::result<inbound_store::sweep_result>> {
    co_return co_await st.async_sweep(b.c());
  });
  ASSERT_TRUE(swept) << swept.error().message();
  EXPECT_EQ(swept->queues, 1u);
  EXPECT_EQ(swept->depth, 1);
  auto late = claim();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].id, "late");
  EXPECT_EQ(late[0].home, homes[1]);
}

// The claim's whole life: exclusive, releasable only by its holder, final once done.
void claim_sequence(redis_server* redis, const webhooks::inbound_store_options& o) {
  store_bench b(*redis);
  inbound_store st(o);
  const auto key = webhooks::message_key(webhooks::default_home, "twilio", "+14155552000", "SM1");
  EXPECT_NE(key, webhooks::message_key(webhooks::default_home, "twilio", "+14155552001", "SM1"));
  auto claim = [&](std::string token) {
    return b.run([&]() -> asio::awaitable<claim_state> {
      co_return *co_await st.async_claim(b.c(), key, token);
    });
  };
  EXPECT_EQ(claim("t1"), claim_state::claimed);
  EXPECT_EQ(claim("t2"), claim_state::in_progress);
  b.run([&]() -> asio::awaitable<int> {
    co_await st.async_release(b.c(), key, "t2");  // not the holder: no effect
    co_return 0;
  });
  EXPECT_EQ(claim("t3"), claim_state::in_progress);
  b.run([&]() -> asio::awaitable<int> {
    co_await st.async_release(b.c(), key, "t1");
    co_return 0;
  });
  EXPECT_EQ(claim("t4"), claim_state::claimed);
  const webhooks::reply_to_queue nothing;
  auto fin = b.run([&]() -> asio::awaitable<enqueue_state> {
    co_return *co_await st.async_finish(b.c(), webhooks::default_home, key, nothing);
  });
  EXPECT_EQ(fin, enqueue_state::none);
  EXPECT_EQ(claim("t5"), claim_state::done);
  // A late finish by a delivery whose claim lapsed changes nothing.
  webhooks::reply_to_queue q{"r1", 0, "{}", ""};
  fin = b.run([&]() -> asio::awaitable<enqueue_state> {
    co_return *co_await st.async_finish(b.c(), webhooks::default_home, key, q);
  });
  EXPECT_EQ(fin, enqueue_state::already);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
}

// Both claim paths: the native SET NX GET (Redis >= 7.0) and the Lua script (older servers).
TEST_F(WebhookStore, ClaimIsExclusiveReleasableAndDoneIsFinal) {
  for (const bool native : {true, false}) {
    SCOPED_TRACE(native ? "SET NX GET" : "Lua script");
    redis->cli("FLUSHALL");
    webhooks::inbound_store_options o;
    o.native_claim = native;
    claim_sequence(redis, o);
  }
}

// The opt-out, its confirmation and `done` land together; if the opt-out cannot be written,
// none of the rest does, so the carrier's retry applies the whole message again.
TEST_F(WebhookStore, AnOptoutIsFinishedInTheSameScriptOrNotAtAll) {
  store_bench b(*redis);
  inbound_store st;
  auto p = *dnc::contacts::contact_keys::pseudonymizer::create(contact_secret);
  dnc::contacts::contact_store contacts(b.c(), p);
  const auto from = *dnc::model::parse_phone("+14155552671");
  const dnc::model::sys_time at{std::chrono::microseconds(1'780'000'000'000'000)};
  auto finish = [&](std::string key, std::string id) {
    webhooks::reply_to_queue q{id, 1000, "{\"x\":1}", webhooks::marker_key(webhooks::default_home, from.e164(), "acme")};
    return b.run([&]() -> asio::awaitable<boost::system::result<enqueue_state>> {
      auto c = co_await st.async_claim(b.c(), key, "t1");
      EXPECT_TRUE(c && *c == claim_state::claimed);
      co_return co_await st.async_finish_optout(contacts, from, "acme", at, "sms:sandbox",
                                                "gw1-7", webhooks::default_home, key, q);
    });
  };
  auto fin = finish("{sg:in}:id:a", "r1");
  ASSERT_TRUE(fin) << fin.error().message();
  EXPECT_EQ(*fin, enqueue_state::queued);
  EXPECT_EQ(redis->cli("GET '{sg:in}:id:a'"), "done");
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "1");
  auto facts =
      b.run([&]() -> asio::awaitable<boost::system::result<std::vector<dnc::model::number_facts>>> {
        const dnc::contacts::fetch_item item{from, {}, std::nullopt};
        co_return co_await contacts.async_fetch(
            std::span<const dnc::contacts::fetch_item>(&item, 1), at);
      });
  ASSERT_TRUE(facts && facts->size() == 1);
  ASSERT_EQ((*facts)[0].optouts.size(), 1u);
  EXPECT_EQ((*facts)[0].optouts[0].evidence_id, "gw1-7");

  // The number's key holds the wrong type: the opt-out fails, and so does everything after it.
  const auto other = *dnc::model::parse_phone("+14155552672");
  redis->cli("SET '" + p.tag(other) + "' not-a-hash");
  fin = b.run([&]() -> asio::awaitable<boost::system::result<enqueue_state>> {
    auto c = co_await st.async_claim(b.c(), "{sg:in}:id:b", "t2");
    EXPECT_TRUE(c && *c == claim_state::claimed);
    webhooks::reply_to_queue q{"r2", 1000, "{}", webhooks::marker_key(webhooks::default_home, other.e164(), "acme")};
    co_return co_await st.async_finish_optout(contacts, other, "acme", at, "sms:sandbox", "gw1-8",
                                              webhooks::default_home, "{sg:in}:id:b", q);
  });
  EXPECT_FALSE(fin);
  EXPECT_EQ(redis->cli("GET '{sg:in}:id:b'"), "t2");  // still only claimed
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "1");
  EXPECT_EQ(redis->cli("EXISTS '" + webhooks::marker_key(webhooks::default_home, other.e164(), "acme") + "'"), "0");
}

TEST_F(WebhookStore, MarkerSuppressesASecondConfirmationAndTheQueueIsBounded) {
  store_bench b(*redis);
  webhooks::inbound_store_options o;
  o.max_queue = 2;
  inbound_store st(o);
  const auto marker = webhooks::marker_key(webhooks::default_home, "+14155552671", "acme");
  auto finish = [&](std::string key, std::string id, std::string m) {
    webhooks::reply_to_queue q{id, 1000, "{\"x\":1}", m};
    return b.run([&]() -> asio::awaitable<enqueue_state> {
      co_return *co_await st.async_finish(b.c(), webhooks::default_home, key, q);
    });
  };
  EXPECT_EQ(finish("{sg:in}:id:a", "r1", marker), enqueue_state::queued);
  EXPECT_EQ(finish("{sg:in}:id:b", "r2", marker), enqueue_state::suppressed);
  EXPECT_EQ(finish("{sg:in}:id:c", "r3", ""), enqueue_state::queued);  // HELP: no marker
  EXPECT_EQ(finish("{sg:in}:id:d", "r4", ""), enqueue_state::full);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "2");
  const int ttl = std::stoi(redis->cli("TTL " + marker));
  EXPECT_GT(ttl, 86000);  // ~24 h
  EXPECT_LE(ttl, 86400);
}

TEST_F(WebhookStore, DueItemsAreClaimedOnceAndALapsedLeaseIsReportedAsSending) {
  store_bench b(*redis);
  inbound_store st;
  webhooks::reply_to_queue q{"r1", 1000, "{\"x\":1}", ""};
  b.run([&]() -> asio::awaitable<int> {
    co_await st.async_finish(b.c(), webhooks::default_home, "{sg:in}:id:a", q);
    co_return 0;
  });
  auto claim = [&](std::int64_t now) {
    return b.run([&]() -> asio::awaitable<std::vector<webhooks::claimed_reply>> {
      co_return *co_await st.async_claim_due(b.c(), now, 16);
    });
  };
  EXPECT_TRUE(claim(999).empty());  // not due yet
  auto first = claim(1000);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].id, "r1");
  EXPECT_EQ(first[0].payload, "{\"x\":1}");
  EXPECT_FALSE(first[0].was_sending);
  EXPECT_TRUE(claim(1001).empty());  // hidden while leased
  // The holder never reported (crashed): after the lease it comes back marked.
  auto again = claim(1000 + st.options().lease.count());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].was_sending);
  // A retry report puts it back at its new due time, unmarked.
  b.run([&]() -> asio::awaitable<int> {
    co_await st.async_retry(b.c(), webhooks::default_home, "r1", 5000);
    co_return 0;
  });
  EXPECT_TRUE(claim(4999).empty());
  auto third = claim(5000);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_FALSE(third[0].was_sending);
  b.run([&]() -> asio::awaitable<int> {
    co_await st.async_complete(b.c(), webhooks::default_home, "r1");
    co_return 0;
  });
  EXPECT_TRUE(claim(99999999).empty());
  EXPECT_EQ(redis->cli("HLEN '{sg:in}:items'"), "0");
}

class WebhookReplies : public WebhookStore {
 protected:
  // Until no reply is being sent (its drainer reported back to the queue).
  static void wait_reported() {
    for (int i = 0; i < 500 && redis->cli("SCARD '{sg:in}:sending'") != "0"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

TEST_F(WebhookReplies, RetryableFailureIsRetriedWithBackoffWithinTheBudget) {
  webhook_bed bed(*redis);
  bed.set_verdict(send_verdict::retry);
  ASSERT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", "+14155552000", "STOP")).first,
            200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  wait_reported();
  bed.advance(std::chrono::seconds(3));  // past the first backoff (2 s)
  ASSERT_EQ(bed.wait_sent(2).size(), 2u);
  wait_reported();
  bed.set_verdict(send_verdict::sent);
  bed.advance(std::chrono::seconds(4));
  auto sent = bed.wait_sent(3);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].id, sent[2].id);  // the same reply each time
  for (int i = 0; i < 500 && bed.svc().stats().reply_count("optout", "sent") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(bed.svc().stats().reply_count("optout", "sent"), 1u);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
}

TEST_F(WebhookReplies, GivesUpWhenTheFiveMinutesArePast) {
  webhook_bed bed(*redis);
  bed.set_verdict(send_verdict::retry);
  ASSERT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", "+14155552000", "STOP")).first,
            200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  wait_reported();
  bed.advance(std::chrono::minutes(6));
  for (int i = 0; i < 500 && bed.svc().stats().reply_count("optout", "expired") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(bed.svc().stats().reply_count("optout", "expired"), 1u);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");
  EXPECT_EQ(bed.sent().size(), 1u);
}

TEST_F(WebhookReplies, AnUnknownOutcomeIsNeverSentAgain) {
  webhook_bed bed(*redis);
  bed.set_verdict(send_verdict::unknown);
  ASSERT_EQ(bed.post(bed.inbound("twilio", "SM1", "+14155552671", "+14155552000", "STOP")).first,
            200);
  ASSERT_EQ(bed.wait_sent(1).size(), 1u);
  for (int i = 0; i < 500 && bed.svc().stats().reply_count("optout", "unknown") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(bed.svc().stats().reply_count("optout", "unknown"), 1u);
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "0");  // gone: nothing left to resend
  EXPECT_EQ(bed.sent().size(), 1u);
}

TEST_F(WebhookReplies, APendingReplySurvivesAGatewayRestart) {
  std::chrono::system_clock::time_point t;
  {
    webhook_bed first(*redis);
    first.set_verdict(send_verdict::retry);  // the carrier is down: the reply stays queued
    ASSERT_EQ(
        first.post(first.inbound("telnyx", "tx1", "+14155552671", "+14155552000", "STOP")).first,
        200);
    ASSERT_EQ(first.wait_sent(1).size(), 1u);
    wait_reported();
    t = first.now();
  }  // the gateway goes away
  EXPECT_EQ(redis->cli("ZCARD '{sg:in}:q'"), "1");
  webhook_bed second(*redis);
  second.advance(std::chrono::duration_cast<std::chrono::microseconds>(t - second.now()) +
                 std::chrono::seconds(3));
  auto sent = second.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].kind, "optout");
  EXPECT_EQ(sent[0].carrier, "telnyx");
  EXPECT_EQ(sent[0].to, "+14155552671");
}

}  // namespace
}  // namespace stopgate::test
