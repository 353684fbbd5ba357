// The contact store's local cache on a real Redis Cluster: it follows the nodes'
// invalidations (CLIENT TRACKING, redirect mode) and a barrier per fetch, so a write made
// through another client is seen by the very next fetch, a moved slot is read from its new
// node, and a lost tracking connection drops the cache.
#include "dnc/contacts/keys.hpp"
#include "dnc/contacts/store.hpp"
#include "redis/slot.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <set>
#include <sstream>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

contact_keys::pseudonymizer pseudo() {
  return contact_keys::pseudonymizer::create("0123456789abcdef-test-secret").value();
}

model::sys_time at(std::chrono::microseconds d = {}) {
  using namespace std::chrono;
  return model::sys_time(sys_days(year(2026) / March / 2) + 15h) + d;
}

// HGETALL calls every primary has answered so far (INFO commandstats).
long hgetall_calls(const test::redis_cluster& cluster) {
  long total = 0;
  for (int port : cluster.primaries()) {
    std::istringstream in(cluster.cli(port, "INFO commandstats"));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.starts_with("cmdstat_hgetall:calls=")) continue;
      total += std::stol(line.substr(std::string("cmdstat_hgetall:calls=").size()));
    }
  }
  return total;
}

// A reader store with the cache (A) and a writer store without one (B), each on its own
// client of the cluster, on one io_context; runs body(A, B).
template <class F>
void with_stores(const test::redis_cluster& cluster, F body) {
  asio::io_context io;
  redis::client_options co;
  co.ep = *redis::parse_url(cluster.url());
  co.command_timeout = 10s;
  redis::client ca(io.get_executor(), co), cb(io.get_executor(), co);
  ca.start();
  cb.start();
  contact_store_options reader;
  reader.per_slot_changes = true;
  contact_store_options writer = reader;
  writer.cache.max_bytes = 0;
  contact_store a(ca, pseudo(), reader), b(cb, pseudo(), writer);
  auto run = [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await ca.async_wait_connected(10s));
    EXPECT_FALSE(co_await cb.async_wait_connected(10s));
    co_await body(a, b);
    ca.stop();
    cb.stop();
  };
  auto fut = asio::co_spawn(io, run(), asio::use_future);
  io.run();
  fut.get();
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Fetches until the cache holds `want` entries (tracking is switched on just after the
// connections are up); false after 5 s.
asio::awaitable<bool> warm(contact_store& s, const std::vector<fetch_item>& items, std::size_t want) {
  for (int i = 0; i < 100; ++i) {
    auto f = co_await s.async_fetch(items, at());
    if (f && s.cache() != nullptr && s.cache()->size() >= want) co_return true;
    co_await pause(50ms);
  }
  co_return false;
}

std::vector<fetch_item> items_of(const std::vector<model::phone_number>& numbers) {
  std::vector<fetch_item> items;
  for (auto n : numbers) items.push_back({n, "", std::nullopt});
  return items;
}

TEST(ContactStoreClusterCache, AWriteThroughAnotherClientIsSeenByTheNextFetch) {
  test::redis_cluster cluster(3, 0);
  std::vector<model::phone_number> numbers;
  for (std::uint32_t i = 0; i < 30; ++i) numbers.push_back(model::phone_number::nanp(415, 5550100 + i));
  const auto p = pseudo();
  std::set<int> shards;
  for (auto n : numbers) shards.insert(cluster.primary_of_slot(redis::key_slot(p.tag(n))));
  ASSERT_EQ(shards.size(), 3u) << "the numbers should cover every shard";
  const auto items = items_of(numbers);

  with_stores(cluster, [&](contact_store& a, contact_store& b) -> asio::awaitable<void> {
    EXPECT_NE(a.cache(), nullptr) << "the cache is on on a cluster";
    EXPECT_TRUE(co_await warm(a, items, numbers.size())) << "the cache never filled";
    // Answered from the cache: no HGETALL reaches any node.
    const long before = hgetall_calls(cluster);
    auto again = co_await a.async_fetch(items, at());
    EXPECT_TRUE(again);
    EXPECT_EQ(hgetall_calls(cluster), before);

    // Each opt-out written through B is seen by A's next fetch, on every shard; the other
    // numbers keep coming from the cache.
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      auto w = co_await b.async_record_optout(numbers[i], "acme", at(), "api:api", "gw2-" + std::to_string(i));
      EXPECT_TRUE(w && *w) << i;
      auto f = co_await a.async_fetch(items, at(1s));
      EXPECT_TRUE(f) << i;
      if (!f) continue;
      for (std::size_t j = 0; j < numbers.size(); ++j)
        EXPECT_EQ((*f)[j].optouts.size(), j <= i ? 1u : 0u) << "after write " << i << ", number " << j;
    }
    EXPECT_GE(a.cache()->invalidations(), numbers.size() - 1);

    // A consent, then a forget through B: seen at once too.
    consent_record c;
    c.fact.sender = "acme";
    c.fact.kind = model::consent_kind::express_written;
    c.fact.captured_at = at(1h);
    c.fact.evidence_id = "gw2-100";
    c.source.method = "web_form";
    c.source.text = "I agree.";
    EXPECT_TRUE(co_await b.async_record_consent(numbers[3], c));
    auto f = co_await a.async_fetch(items, at(2h));
    EXPECT_TRUE(f && (*f)[3].consents.size() == 1);
    EXPECT_TRUE(co_await b.async_forget(numbers[3], at(3h)));
    f = co_await a.async_fetch(items, at(3h));
    EXPECT_TRUE(f && (*f)[3].consents.empty());

    // The tracking connections killed: the cache is dropped at once, and what B writes
    // before they are back is read from Redis.
    EXPECT_TRUE(co_await warm(a, items, numbers.size()));
    const std::uint64_t epoch = a.client().tracking_epoch();
    for (int port : cluster.primaries()) cluster.cli(port, "CLIENT KILL TYPE pubsub");
    consent_record c2 = c;
    c2.fact.evidence_id = "gw2-101";
    EXPECT_TRUE(co_await b.async_record_consent(numbers[7], c2));
    f = co_await a.async_fetch(items, at(4h));
    EXPECT_TRUE(f && (*f)[7].consents.size() == 1);
    EXPECT_GT(a.client().tracking_epoch(), epoch);
    // And it fills again once they are.
    EXPECT_TRUE(co_await warm(a, items, numbers.size())) << "tracking did not come back";
    f = co_await a.async_fetch(items, at(4h));
    EXPECT_TRUE(f && (*f)[7].consents.size() == 1);
  });
}

TEST(ContactStoreClusterCache, NumbersOfAMovedSlotAreReadFromTheirNewNode) {
  test::redis_cluster cluster(3, 0);
  const auto p = pseudo();
  // Two numbers in one slot, nothing stored for either (the common case a cache holds).
  const model::phone_number n = model::phone_number::nanp(415, 5550100);
  const int slot = redis::key_slot(p.tag(n));
  model::phone_number m = n;
  for (std::uint32_t i = 1; i < 2'000'000; ++i) {
    const auto c = model::phone_number::nanp(212, 2000000 + i);
    if (redis::key_slot(p.tag(c)) == slot) {
      m = c;
      break;
    }
  }
  ASSERT_NE(m, n) << "no second number in the slot";
  const int from = cluster.primary_of_slot(slot);
  int to = 0;
  for (int port : cluster.primaries())
    if (port != from) to = port;
  // A fetch round of fewer than 16 numbers reads them all from Redis: pad it.
  std::vector<model::phone_number> numbers{n, m};
  for (std::uint32_t i = 0; i < 14; ++i) numbers.push_back(model::phone_number::nanp(646, 5550100 + i));
  const auto items = items_of(numbers);

  with_stores(cluster, [&](contact_store& a, contact_store& b) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await warm(a, items, numbers.size()));
    // Migrating: the store's writes touch several keys of the slot, which a migrating slot
    // refuses (TRYAGAIN) until its keys have moved, so a number cannot be created on the
    // target behind the cache's back.
    cluster.begin_migration(slot, to);
    auto w = co_await b.async_record_optout(n, "acme", at(), "api:api", "gw2-1");
    EXPECT_FALSE(w) << "a write into a migrating slot";
    auto f = co_await a.async_fetch(items, at(1s));
    EXPECT_TRUE(f && (*f)[0].available && (*f)[0].optouts.empty());
    // Moved: both numbers were cached empty from the old owner; B's opt-outs land on the new
    // one. The slot's marker moved first, and its invalidation dropped the cache.
    cluster.finish_migration(slot, to);
    w = co_await b.async_record_optout(n, "acme", at(), "api:api", "gw2-1");
    EXPECT_TRUE(w && *w);
    auto o = co_await b.async_record_optout(m, "acme", at(), "api:api", "gw2-2");
    EXPECT_TRUE(o && *o);
    f = co_await a.async_fetch(items, at(2s));
    EXPECT_TRUE(f && (*f)[0].optouts.size() == 1 && (*f)[1].optouts.size() == 1)
        << "opt-outs written after the slot moved";
    // The cache follows the new owner from then on.
    EXPECT_TRUE(co_await warm(a, items, numbers.size()));
    o = co_await b.async_record_optout(m, "beta", at(4s), "api:api", "gw2-3");
    EXPECT_TRUE(o && *o);
    f = co_await a.async_fetch(items, at(5s));
    EXPECT_TRUE(f && (*f)[1].optouts.size() == 2);
  });
}

}  // namespace
}  // namespace stopgate::dnc::contacts
