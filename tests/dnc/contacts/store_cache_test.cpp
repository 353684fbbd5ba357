// The contact store's coalesced, cached fetch against a real redis-server: fetches of one
// executor turn share one pipeline; a cached number written through another store is seen
// by the next fetch, also after the change stream was trimmed past the reader or Redis lost
// its data; counters are always read; the cache stays within its byte budget.
#include "dnc/contacts/keys.hpp"
#include "dnc/contacts/store.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <sstream>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::redis_server;
using facts_result = boost::system::result<std::vector<model::number_facts>>;

contact_keys::pseudonymizer pseudo() {
  return contact_keys::pseudonymizer::create("0123456789abcdef-test-secret").value();
}

redis::client_options options_for(const redis_server& r) {
  redis::client_options o;
  o.ep = *redis::parse_url(r.unix_url());
  o.command_timeout = 10s;
  return o;
}

model::sys_time at(std::chrono::microseconds d = {}) {
  using namespace std::chrono;
  return model::sys_time(sys_days(year(2026) / March / 2) + 15h) + d;
}

const model::phone_number alice = model::phone_number::nanp(415, 5552671);
const model::phone_number bob = model::phone_number::nanp(212, 5552671);

model::phone_number other(std::uint32_t i) {
  return model::phone_number::nanp(650, 2'000'000 + i);
}

std::uint64_t hgetall_calls(const redis_server& r) {
  std::istringstream in(r.cli("INFO commandstats"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("cmdstat_hgetall:calls=", 0) == 0) return std::stoull(line.substr(22));
  return 0;
}

consent_record consent(std::string sender, model::sys_time when) {
  consent_record c;
  c.fact.sender = std::move(sender);
  c.fact.kind = model::consent_kind::express_written;
  c.fact.captured_at = when;
  c.fact.evidence_id = "gw2-" + c.fact.sender;  // one evidence record per consent
  c.source.method = "web_form";
  c.source.text = "I agree.";
  return c;
}

// Two gateways on one Redis: `reader` caches (the default), `writer` writes. Runs body on
// one io_context with both clients connected.
struct two_stores {
  explicit two_stores(const redis_server& r, contact_store_options reader_opts = {},
                      contact_store_options writer_opts = {})
      : c1(io.get_executor(), options_for(r)),
        c2(io.get_executor(), options_for(r)),
        reader(c1, pseudo(), reader_opts),
        writer(c2, pseudo(), writer_opts) {
    c1.start();
    c2.start();
  }
  template <class F>
  void run(F body) {
    auto wrapped = [&]() -> asio::awaitable<void> {
      EXPECT_FALSE(co_await c1.async_wait_connected(5s));
      EXPECT_FALSE(co_await c2.async_wait_connected(5s));
      co_await body();
      c1.stop();
      c2.stop();
    };
    auto fut = asio::co_spawn(io, wrapped(), asio::use_future);
    io.run();
    fut.get();
  }
  asio::awaitable<model::number_facts> fetch(model::phone_number n) {
    const std::vector<fetch_item> items = {{n, {}, {}}};
    auto f = co_await reader.async_fetch(items, at());
    EXPECT_TRUE(f && f->size() == 1);
    co_return f && f->size() == 1
        ? (*f)[0]
        : model::number_facts{
              .available = false, .optouts = {}, .consents = {}, .recent_contacts = {}};
  }

  asio::io_context io;
  redis::client c1, c2;
  contact_store reader, writer;
};

TEST(ContactStoreCache, AWriteThroughAnotherStoreIsSeenByTheNextFetch) {
  redis_server r;
  two_stores s(r);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE((co_await s.fetch(alice)).optouts.empty());
    // The second fetch is answered from the cache: no HGETALL reaches Redis.
    const auto hgetall_before = hgetall_calls(r);
    EXPECT_TRUE((co_await s.fetch(alice)).optouts.empty());
    EXPECT_EQ(hgetall_calls(r), hgetall_before);
    EXPECT_TRUE(s.reader.cache() && s.reader.cache()->size() == 1u);

    // Opt-out through the other store: the very next fetch sees it.
    EXPECT_TRUE(co_await s.writer.async_record_optout(alice, "acme", at(), "sms:STOP", "gw2-1"));
    auto f = co_await s.fetch(alice);
    EXPECT_EQ(f.optouts.size(), 1u);
    EXPECT_TRUE(!f.optouts.empty() && f.optouts[0].sender == "acme");
    EXPECT_GE(s.reader.cache()->invalidations(), 1u);
    // Cached again (with the opt-out) ...
    EXPECT_EQ((co_await s.fetch(alice)).optouts.size(), 1u);
    // ... and an opt-in that lifts it is seen at once too.
    auto in = co_await s.writer.async_record_optin(alice, consent("acme", at(1s)));
    EXPECT_TRUE(in && in->outcome == optin_outcome::lifted);
    f = co_await s.fetch(alice);
    EXPECT_TRUE(f.optouts.empty());
    EXPECT_EQ(f.consents.size(), 1u);
    // A consent alone, and forget (which withdraws consents), are writes as well.
    EXPECT_TRUE(co_await s.writer.async_record_consent(alice, consent("beta", at(2s))));
    EXPECT_EQ((co_await s.fetch(alice)).consents.size(), 2u);
    EXPECT_TRUE(co_await s.writer.async_forget(alice, at(1h)));
    EXPECT_TRUE((co_await s.fetch(alice)).consents.empty());
    EXPECT_EQ(s.reader.cache()->drops(), 0u);
  });
}

TEST(ContactStoreCache, AReaderBehindTheTrimmedStreamDropsEverything) {
  redis_server r;
  contact_store_options short_stream;
  short_stream.change_stream_length = 10;
  two_stores s(r, {}, short_stream);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE((co_await s.fetch(alice)).optouts.empty());
    EXPECT_TRUE((co_await s.fetch(bob)).optouts.empty());
    EXPECT_EQ(s.reader.cache()->size(), 2u);
    // alice's change is the first of 400: trimmed away before the reader polls again.
    EXPECT_TRUE(co_await s.writer.async_record_optout(alice, "acme", at(), "api", "gw2-1"));
    for (std::uint32_t i = 0; i < 399; ++i)
      EXPECT_TRUE(co_await s.writer.async_record_optout(other(i), "acme", at(), "api", "gw2-2"));
    EXPECT_LT(std::stoi(r.cli("XLEN {c:changes}")), 400);
    EXPECT_EQ(r.cli("GET {c:changes}:n"), "400");

    EXPECT_EQ((co_await s.fetch(alice)).optouts.size(), 1u);
    EXPECT_EQ(s.reader.cache()->drops(), 1u);
    EXPECT_TRUE((co_await s.fetch(bob)).optouts.empty());
  });
}

TEST(ContactStoreCache, MoreChangesThanOnePollReadsDropEverything) {
  redis_server r;
  contact_store_options small_poll;
  small_poll.cache.max_changes_per_poll = 8;
  two_stores s(r, small_poll);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE((co_await s.fetch(bob)).optouts.empty());
    for (std::uint32_t i = 0; i < 20; ++i)
      EXPECT_TRUE(co_await s.writer.async_record_optout(other(i), "acme", at(), "api", "gw2-2"));
    EXPECT_TRUE(co_await s.writer.async_record_optout(bob, "acme", at(), "api", "gw2-1"));
    EXPECT_EQ((co_await s.fetch(bob)).optouts.size(), 1u);
    EXPECT_EQ(s.reader.cache()->drops(), 1u);
  });
}

TEST(ContactStoreCache, ARedisThatLostItsDataDropsTheCache) {
  redis_server r;
  two_stores s(r);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await s.writer.async_record_optout(alice, "acme", at(), "api", "gw2-1"));
    EXPECT_TRUE(co_await s.writer.async_record_optout(bob, "acme", at(), "api", "gw2-1"));
    EXPECT_EQ((co_await s.fetch(alice)).optouts.size(), 1u);
    EXPECT_EQ((co_await s.fetch(bob)).optouts.size(), 1u);
    // The data and the change counter are gone (a restart without persistence): the
    // counter went backwards, so nothing cached can be trusted.
    r.cli("FLUSHALL");
    EXPECT_TRUE(co_await s.writer.async_record_optout(bob, "beta", at(), "api", "gw2-3"));
    EXPECT_TRUE((co_await s.fetch(alice)).optouts.empty());
    auto b = co_await s.fetch(bob);
    EXPECT_EQ(b.optouts.size(), 1u);
    EXPECT_TRUE(!b.optouts.empty() && b.optouts[0].sender == "beta");
  });
}

TEST(ContactStoreCache, ARedisThatLostItsDataAndCaughtUpDropsTheCache) {
  // The counter does not go backwards here: after the loss it climbs past where the reader
  // stood before the reader polls again, and the change that matters (carol's opt-out) has
  // a number the reader believes it already applied.
  redis_server r;
  two_stores s(r);
  const model::phone_number carol = model::phone_number::nanp(312, 5550142);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await s.writer.async_record_optout(other(1), "acme", at(), "api", "gw2-1"));
    EXPECT_TRUE(co_await s.writer.async_record_optout(other(2), "acme", at(), "api", "gw2-1"));
    EXPECT_TRUE((co_await s.fetch(carol)).optouts.empty());  // cached at change 2
    r.cli("FLUSHALL");
    EXPECT_TRUE(co_await s.writer.async_record_optout(carol, "acme", at(), "sms:STOP", "gw2-3"));
    EXPECT_TRUE(co_await s.writer.async_record_optout(other(3), "acme", at(), "api", "gw2-4"));
    EXPECT_TRUE(co_await s.writer.async_record_optout(other(4), "acme", at(), "api", "gw2-5"));
    EXPECT_EQ(r.cli("GET {c:changes}:n"), "3");
    auto c = co_await s.fetch(carol);
    EXPECT_EQ(c.optouts.size(), 1u);
    EXPECT_TRUE(!c.optouts.empty() && c.optouts[0].sender == "acme");
  });
}

TEST(ContactStoreCache, CountersAreReadOnEveryFetch) {
  redis_server r;
  two_stores s(r);
  const std::vector<fetch_item> items = {{alice, "spring", 24h}};
  s.run([&]() -> asio::awaitable<void> {
    auto f = co_await s.reader.async_fetch(items, at());
    EXPECT_TRUE(f && (*f)[0].recent_contacts.empty());
    const std::vector<commit_item> commits = {{alice, "spring", at(-1h), 24h}};
    EXPECT_FALSE(co_await s.writer.async_commit_many(commits));
    f = co_await s.reader.async_fetch(items, at());
    EXPECT_TRUE(f && (*f)[0].recent_contacts.size() == 1u);
  });
}

TEST(ContactStoreCache, FetchesOfOneTurnShareOnePipeline) {
  redis_server r;
  two_stores s(r);
  constexpr std::uint32_t n = 50;
  std::vector<std::vector<fetch_item>> items(n);
  for (std::uint32_t i = 0; i < n; ++i) items[i] = {{other(i), {}, {}}};
  std::uint32_t answered = 0;
  // Starts n fetches in one turn and waits for all of them.
  auto fan_out = [&]() -> asio::awaitable<void> {
    answered = 0;
    auto ex = co_await asio::this_coro::executor;
    for (std::uint32_t i = 0; i < n; ++i)
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            auto f = co_await s.reader.async_fetch(items[i], at());
            if (f && f->size() == 1 && (*f)[0].optouts.size() == (i == 7 ? 1u : 0u)) ++answered;
          },
          asio::detached);
    asio::steady_timer t(ex);
    while (answered < n) {
      t.expires_after(1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  };
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await s.writer.async_record_optout(other(7), "acme", at(), "api", "gw2-1"));
    const auto before = s.reader.round_trips();
    const auto hgetall_before = hgetall_calls(r);
    co_await fan_out();
    EXPECT_EQ(s.reader.round_trips() - before, 1u);
    EXPECT_EQ(hgetall_calls(r) - hgetall_before, n);
    // All cached now: one pipeline holding only the poll.
    co_await fan_out();
    EXPECT_EQ(s.reader.round_trips() - before, 2u);
    EXPECT_EQ(hgetall_calls(r) - hgetall_before, n);
  });
}

TEST(ContactStoreCache, StaysWithinItsByteBudgetAndAnswersCorrectly) {
  redis_server r;
  contact_store_options small;
  small.cache.max_bytes = 32 << 10;
  two_stores s(r, small);
  constexpr std::uint32_t n = 3'000;
  std::vector<fetch_item> items;
  for (std::uint32_t i = 0; i < n; ++i) items.push_back({other(i), {}, {}});
  s.run([&]() -> asio::awaitable<void> {
    for (std::uint32_t i = 0; i < n; i += 100)
      EXPECT_TRUE(co_await s.writer.async_record_optout(other(i), "acme", at(), "api", "gw2-1"));
    for (int round = 0; round < 3; ++round) {
      auto f = co_await s.reader.async_fetch(items, at());
      EXPECT_TRUE(f);
      std::uint32_t wrong = 0;
      for (std::uint32_t i = 0; f && i < n; ++i)
        wrong += (*f)[i].optouts.size() != (i % 100 == 0 ? 1u : 0u);
      EXPECT_EQ(wrong, 0u);
      EXPECT_LE(s.reader.cache()->bytes(), small.cache.max_bytes);
      EXPECT_GT(s.reader.cache()->size(), 0u);
      EXPECT_LT(s.reader.cache()->size(), n);
    }
  });
}

TEST(ContactStoreCache, OffMeansEveryFetchReadsEveryHash) {
  redis_server r;
  contact_store_options off;
  off.cache.max_bytes = 0;
  two_stores s(r, off);
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_EQ(s.reader.cache(), nullptr);
    const auto before = hgetall_calls(r);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE((co_await s.fetch(alice)).optouts.empty());
    EXPECT_EQ(hgetall_calls(r) - before, 3u);
  });
}

TEST(ContactStoreCache, ACancelledFetchIsAbandonedSafely) {
  // A caller may race a fetch against its own deadline (awaitable operators cancel the
  // loser). The pipeline in flight still answers into the abandoned fetch; nothing dangles
  // (ASan checks that) and the store keeps working.
  using namespace asio::experimental::awaitable_operators;
  redis_server r;
  two_stores s(r);
  const std::vector<fetch_item> items = {{alice, {}, {}}};
  s.run([&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await s.writer.async_record_optout(alice, "acme", at(), "api", "gw2-1"));
    r.pause();  // Redis accepts but does not answer: the fetch cannot complete
    asio::steady_timer deadline(co_await asio::this_coro::executor);
    deadline.expires_after(20ms);
    auto first =
        co_await (s.reader.async_fetch(items, at()) || deadline.async_wait(asio::use_awaitable));
    EXPECT_EQ(first.index(), 1u);  // the deadline won; the fetch was cancelled
    r.resume();
    auto f = co_await s.reader.async_fetch(items, at());
    EXPECT_TRUE(f && (*f)[0].optouts.size() == 1u);
  });
}

}  // namespace
}  // namespace stopgate::dnc::contacts
