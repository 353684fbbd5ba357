// The contact store on a real 3-shard Redis Cluster: with per_slot_changes every script touches
// one slot (the number's keys and its slot's change stream), so every operation works with
// numbers spread over every shard; with the single {c:changes} stream the cluster refuses them.
// And its local cache there (ContactStoreClusterCache).
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

// Express written consent of sender "acme" captured an hour in, from a web form.
consent_record written_consent(std::string evidence_id) {
  consent_record c;
  c.fact.sender = "acme";
  c.fact.kind = model::consent_kind::express_written;
  c.fact.captured_at = at(std::chrono::hours(1));
  c.fact.evidence_id = std::move(evidence_id);
  c.source.method = "web_form";
  c.source.text = "I agree.";
  return c;
}

// `count` numbers from +1 415 555 0100 on.
std::vector<model::phone_number> numbers_from(std::uint32_t count) {
  std::vector<model::phone_number> out;
  for (std::uint32_t i = 0; i < count; ++i) out.push_back(model::phone_number::nanp(415, 5550100 + i));
  return out;
}

// How many primaries the numbers' slots fall on.
std::size_t shards_of(const test::redis_cluster& cluster, const std::vector<model::phone_number>& numbers) {
  std::set<int> shards;
  for (auto n : numbers) shards.insert(cluster.primary_of_slot(redis::key_slot(pseudo().tag(n))));
  return shards.size();
}

// Runs body(store) on a fresh client of the cluster.
template <class F>
void with_store(const test::redis_cluster& cluster, contact_store_options o, F body) {
  asio::io_context io;
  redis::client_options co;
  co.ep = *redis::parse_url(cluster.url());
  co.command_timeout = 10s;
  redis::client client(io.get_executor(), co);
  client.start();
  contact_store store(client, pseudo(), o);
  auto run = [&]() -> asio::awaitable<void> {
    auto ec = co_await client.async_wait_connected(10s);
    EXPECT_FALSE(ec) << ec.message();
    co_await body(store);
    client.stop();
  };
  auto fut = asio::co_spawn(io, run(), asio::use_future);
  io.run();
  fut.get();
}

TEST(ContactStoreCluster, EveryOperationWorksWithNumbersOnEveryShard) {
  test::redis_cluster cluster(3, 0);
  const auto numbers = numbers_from(40);
  const auto p = pseudo();
  ASSERT_EQ(shards_of(cluster, numbers), 3u) << "the numbers should cover every shard";

  contact_store_options o;
  o.per_slot_changes = true;
  with_store(cluster, o, [&](contact_store& s) -> asio::awaitable<void> {
    EXPECT_NE(s.cache(), nullptr) << "the cache follows invalidations on a cluster";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      auto r = co_await s.async_record_optout(numbers[i], "acme", at(), "api:api", "gw1-" + std::to_string(i));
      EXPECT_TRUE(r && *r) << i << ": " << (r ? "" : r.error().message());
    }
    consent_record c = written_consent("gw1-100");
    auto in = co_await s.async_record_optin(numbers[1], c);  // lifts the older opt-out
    EXPECT_TRUE(in && in->outcome == optin_outcome::lifted);
    c.fact.evidence_id = "gw1-101";
    EXPECT_TRUE(co_await s.async_record_consent(numbers[0], c));
    EXPECT_FALSE(co_await s.async_commit_contact({numbers[2], "spring", at(2h), 24h}));

    std::vector<fetch_item> items;
    for (auto n : numbers) items.push_back({n, n == numbers[2] ? "spring" : "", std::optional(24h)});
    auto facts = co_await s.async_fetch(items, at(3h));
    EXPECT_TRUE(facts) << (facts ? "" : facts.error().message());
    if (facts) {
      for (std::size_t i = 0; i < numbers.size(); ++i) {
        EXPECT_TRUE((*facts)[i].available) << i;
        EXPECT_EQ((*facts)[i].optouts.size(), i == 1 ? 0u : 1u) << i;
      }
      EXPECT_EQ((*facts)[0].consents.size(), 1u);
      EXPECT_EQ((*facts)[1].consents.size(), 1u);
      EXPECT_EQ((*facts)[2].recent_contacts.size(), 1u);
    }
    auto rec = co_await s.async_lookup(numbers[0]);
    EXPECT_TRUE(rec && rec->consents.size() == 1 && rec->optouts.size() == 1);
    auto gone = co_await s.async_forget(numbers[0], at(4h));
    EXPECT_TRUE(gone) << (gone ? "" : gone.error().message());
    auto after = co_await s.async_lookup(numbers[0]);
    EXPECT_TRUE(after && after->consents.empty() && after->optouts.size() == 1);  // suppression kept
  });

  // Each write went to its own slot's stream: numbers[5] had one (its opt-out).
  const std::string tag = p.tag(numbers[5]);
  const auto ch = contact_keys::changes_for(tag, true);
  EXPECT_EQ(redis::key_slot(ch.stream), redis::key_slot(tag));
  EXPECT_EQ(redis::key_slot(ch.counter), redis::key_slot(tag));
  const int node = cluster.primary_of_slot(redis::key_slot(tag));
  EXPECT_EQ(cluster.cli(node, "XLEN '" + ch.stream + "'"), "1");
  EXPECT_EQ(cluster.cli(node, "GET '" + ch.counter + "'"), "1");

  // A slot's stream stays short (no cache reads it on a cluster): 400 more writes keep about
  // per_slot_stream_length entries (MAXLEN ~ trims whole stream nodes of 100), and the counter
  // counts them all.
  with_store(cluster, o, [&](contact_store& s) -> asio::awaitable<void> {
    for (int i = 0; i < 400; ++i) {
      auto r = co_await s.async_record_optout(numbers[5], "s" + std::to_string(i % 20), at(std::chrono::seconds(i)),
                                              "api:api", "gw1-" + std::to_string(1000 + i));
      EXPECT_TRUE(r) << i;
    }
  });
  const int len = std::stoi(cluster.cli(node, "XLEN '" + ch.stream + "'"));
  EXPECT_GE(len, int(per_slot_stream_length));
  EXPECT_LE(len, int(per_slot_stream_length) + 100);
  EXPECT_EQ(cluster.cli(node, "GET '" + ch.counter + "'"), "401");

  // The single-stream layout spans slots: the cluster refuses its scripts (why the option exists).
  with_store(cluster, {}, [&](contact_store& s) -> asio::awaitable<void> {
    auto r = co_await s.async_record_optout(numbers[6], "beta", at(), "api:api", "gw1-200");
    EXPECT_FALSE(r) << "a script over {c:changes} and the number's slot";
  });
}

// The local cache on a cluster: it follows the nodes' invalidations (CLIENT TRACKING,
// redirect mode) and a barrier per fetch round, so a write made through another client is
// seen by the very next fetch, a moved slot is read from its new node, and a lost tracking
// connection drops the cache.

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
  const auto numbers = numbers_from(30);
  ASSERT_EQ(shards_of(cluster, numbers), 3u) << "the numbers should cover every shard";
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
    consent_record c = written_consent("gw2-100");
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

// Redis 7.0 can hand a slot over without an invalidation: an owner that learns over the
// cluster bus that another node took the slot deletes what it held there silently. The
// client compares the slot map every second and drops the cache on a change.
TEST(ContactStoreClusterCache, ASlotTakenOverWithoutItsKeysIsSeenWithinTheMapCheck) {
  test::redis_cluster cluster(3, 0);
  const auto p = pseudo();
  std::vector<model::phone_number> numbers;
  for (std::uint32_t i = 0; i < 20; ++i) numbers.push_back(model::phone_number::nanp(718, 5550100 + i));
  const model::phone_number m = numbers[0];
  const int slot = redis::key_slot(p.tag(m));
  const int from = cluster.primary_of_slot(slot);
  int to = 0;
  for (int port : cluster.primaries())
    if (port != from) to = port;
  const auto items = items_of(numbers);

  with_stores(cluster, [&](contact_store& a, contact_store& b) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await warm(a, items, numbers.size()));
    // The target claims the slot (no MIGRATE: the marker stays behind and is deleted by the
    // old owner without a word).
    cluster.cli(to, "CLUSTER SETSLOT " + std::to_string(slot) + " NODE " + cluster.node_id(to));
    cluster.wait_agreed();
    auto o = co_await b.async_record_optout(m, "acme", at(), "api:api", "gw2-9");
    EXPECT_TRUE(o && *o) << (o ? "" : o.error().message());
    co_await pause(redis::tracking_map_check + std::chrono::milliseconds(500));
    auto f = co_await a.async_fetch(items, at(1s));
    EXPECT_TRUE(f && (*f)[0].optouts.size() == 1) << "an opt-out written after the takeover";
  });
}

TEST(ContactKeys, EverySlotHasATagThatHashesToIt) {
  for (std::uint16_t slot = 0; slot < 16384; ++slot)
    ASSERT_EQ(redis::key_slot(contact_keys::slot_tag(slot)), slot);
  EXPECT_EQ(contact_keys::changes_for("{c:00}", false).stream, "{c:changes}");
}

}  // namespace
}  // namespace stopgate::dnc::contacts
