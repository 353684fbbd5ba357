// The contact store on a real 3-shard Redis Cluster: with per_slot_changes every script touches
// one slot (the number's keys and its slot's change stream), so every operation works with
// numbers spread over every shard; with the single {c:changes} stream the cluster refuses them.
#include "dnc/contacts/keys.hpp"
#include "dnc/contacts/store.hpp"
#include "redis/slot.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <set>

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
  std::vector<model::phone_number> numbers;
  for (std::uint32_t i = 0; i < 40; ++i) numbers.push_back(model::phone_number::nanp(415, 5550100 + i));
  const auto p = pseudo();
  std::set<int> shards;
  for (auto n : numbers) shards.insert(cluster.primary_of_slot(redis::key_slot(p.tag(n))));
  ASSERT_EQ(shards.size(), 3u) << "the numbers should cover every shard";

  contact_store_options o;
  o.per_slot_changes = true;
  with_store(cluster, o, [&](contact_store& s) -> asio::awaitable<void> {
    EXPECT_NE(s.cache(), nullptr) << "the cache follows invalidations on a cluster";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      auto r = co_await s.async_record_optout(numbers[i], "acme", at(), "api:api", "gw1-" + std::to_string(i));
      EXPECT_TRUE(r && *r) << i << ": " << (r ? "" : r.error().message());
    }
    consent_record c;
    c.fact.sender = "acme";
    c.fact.kind = model::consent_kind::express_written;
    c.fact.captured_at = at(1h);
    c.fact.evidence_id = "gw1-100";
    c.source.method = "web_form";
    c.source.text = "I agree.";
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

TEST(ContactKeys, EverySlotHasATagThatHashesToIt) {
  for (std::uint16_t slot = 0; slot < 16384; ++slot)
    ASSERT_EQ(redis::key_slot(contact_keys::slot_tag(slot)), slot);
  EXPECT_EQ(contact_keys::changes_for("{c:00}", false).stream, "{c:changes}");
}

}  // namespace
}  // namespace stopgate::dnc::contacts
