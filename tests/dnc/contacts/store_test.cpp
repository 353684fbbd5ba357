// The contact store against a real redis-server: opt-outs, consents, opt-ins, counters,
// one-pipeline batches, pseudonymous keys, forget, two gateways, a Redis that goes away.
#include "dnc/contacts/store.hpp"
#include "dnc/contacts/keys.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sstream>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::redis_server;

const std::string secret = "0123456789abcdef-test-secret";

contact_keys::pseudonymizer pseudo(std::string_view s = secret) {
  return contact_keys::pseudonymizer::create(s).value();
}

redis::client_options options_for(const redis_server& r) {
  redis::client_options o;
  o.ep = *redis::parse_url(r.unix_url());
  o.command_timeout = 10s;
  return o;
}

// An instant: 2026-03-02 15:00 UTC plus `d`.
model::sys_time at(std::chrono::microseconds d = {}) {
  using namespace std::chrono;
  return model::sys_time(sys_days(year(2026) / March / 2) + 15h) + d;
}

const model::phone_number alice = model::phone_number::nanp(415, 5552671);  // +14155552671
const model::phone_number bob = model::phone_number::nanp(212, 5550123);

// Runs f(store) to completion on a fresh io_context with a connected client.
template <class F>
auto run(const redis_server& r, F f, contact_store_options o = {}) {
  asio::io_context io;
  redis::client client(io.get_executor(), options_for(r));
  client.start();
  contact_store store(client, pseudo(), o);
  using result_t = decltype(f(store).await_resume());
  // A named closure: it must outlive the coroutine that uses its captures.
  auto body = [&]() -> asio::awaitable<result_t> {
    auto ec = co_await client.async_wait_connected(5s);
    EXPECT_FALSE(ec) << ec.message();
    auto out = co_await f(store);
    client.stop();
    co_return out;
  };
  auto fut = asio::co_spawn(io, body(), asio::use_future);
  io.run();
  return fut.get();
}

std::vector<model::number_facts> fetch(const redis_server& r, std::vector<fetch_item> items,
                                       model::sys_time when = at()) {
  auto res = run(r, [&](contact_store& s) { return s.async_fetch(items, when); });
  EXPECT_TRUE(res) << res.error().message();
  return res ? *res : std::vector<model::number_facts>{};
}

model::number_facts fetch_one(const redis_server& r, model::phone_number n) {
  return fetch(r, {{n, {}, {}}})[0];
}

bool optout(const redis_server& r, model::phone_number n, std::string_view sender,
            model::sys_time when, std::string_view ev = "gw1-1") {
  auto res = run(
      r, [&](contact_store& s) { return s.async_record_optout(n, sender, when, "sms:STOP", ev); });
  EXPECT_TRUE(res) << res.error().message();
  return res && *res;
}

consent_record consent(std::string sender, model::consent_kind kind, model::sys_time captured,
                       std::optional<model::sys_time> expires = {}) {
  consent_record c;
  c.fact.sender = std::move(sender);
  c.fact.kind = kind;
  c.fact.captured_at = captured;
  c.fact.expires_at = expires;
  // Each consent its own evidence record (a consent's id is derived from its evidence id).
  static int next_evidence = 7;
  c.fact.evidence_id = "gw1-" + std::to_string(next_evidence++);
  c.source = {.method = "web_form",
              .url = "https://acme.example/join",
              .ip = "203.0.113.9",
              .user_agent = "Mozilla/5.0",
              .text = "I agree to receive marketing texts.",
              .proof = "https://cert.example/abc"};
  return c;
}

std::string record_consent(const redis_server& r, model::phone_number n, const consent_record& c) {
  auto res = run(r, [&](contact_store& s) { return s.async_record_consent(n, c); });
  EXPECT_TRUE(res) << res.error().message();
  return res ? *res : std::string();
}

void commit(const redis_server& r, std::vector<commit_item> items, contact_store_options o = {}) {
  auto ec = run(
      r, [&](contact_store& s) { return s.async_commit_many(items); }, o);
  EXPECT_FALSE(ec) << ec.message();
}

std::uint64_t commands_processed(const redis_server& r) {
  std::istringstream in(r.cli("INFO stats"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("total_commands_processed:", 0) == 0) return std::stoull(line.substr(25));
  ADD_FAILURE() << "no total_commands_processed in INFO stats";
  return 0;
}

const model::optout_fact* find_optout(const model::number_facts& f, std::string_view sender) {
  auto it = std::find_if(f.optouts.begin(), f.optouts.end(),
                         [&](const model::optout_fact& o) { return o.sender == sender; });
  return it == f.optouts.end() ? nullptr : &*it;
}

// --- opt-outs and consents -------------------------------------------------------------------

TEST(ContactStore, OptoutsOfOneSenderAndOfEverySender) {
  redis_server r;
  EXPECT_TRUE(optout(r, alice, "acme", at(), "gw1-1"));
  EXPECT_TRUE(optout(r, alice, "*", at(1s), "gw1-2"));
  const auto facts = fetch(r, {{alice, {}, {}}, {bob, {}, {}}});
  ASSERT_EQ(facts.size(), 2u);
  const model::number_facts& f = facts[0];
  EXPECT_TRUE(f.available);
  ASSERT_EQ(f.optouts.size(), 2u);
  const model::optout_fact* acme = find_optout(f, "acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->at, at());
  EXPECT_EQ(acme->source, "sms:STOP");
  EXPECT_EQ(acme->evidence_id, "gw1-1");
  ASSERT_NE(find_optout(f, "*"), nullptr);
  EXPECT_EQ(find_optout(f, "*")->at, at(1s));
  EXPECT_TRUE(facts[1].available);
  EXPECT_TRUE(facts[1].optouts.empty());
  EXPECT_TRUE(facts[1].consents.empty());
}

TEST(ContactStore, AnOptoutKeepsTheLatestTime) {
  redis_server r;
  EXPECT_TRUE(optout(r, alice, "acme", at(10s), "late"));
  EXPECT_FALSE(optout(r, alice, "acme", at(5s), "early"));   // older: the newer one stays
  EXPECT_FALSE(optout(r, alice, "acme", at(10s), "again"));  // same instant: unchanged
  auto f = fetch_one(r, alice);
  ASSERT_EQ(f.optouts.size(), 1u);
  EXPECT_EQ(f.optouts[0].at, at(10s));
  EXPECT_EQ(f.optouts[0].evidence_id, "late");
  EXPECT_TRUE(optout(r, alice, "acme", at(20s), "later"));
  f = fetch_one(r, alice);
  ASSERT_EQ(f.optouts.size(), 1u);
  EXPECT_EQ(f.optouts[0].at, at(20s));
}

// The step after an opt-out sees its own KEYS and ARGV and runs only once the opt-out is in.
TEST(ContactStore, AnOptoutFollowedByAStepIsOneScript) {
  redis_server r;
  static const optout_followup step(R"lua(
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. #KEYS .. '/' .. #ARGV)
return 7
)lua");
  auto then = [&](model::phone_number n, std::string_view ev) {
    const std::string_view keys[] = {"after"};
    const std::string_view args[] = {ev};
    return run(r, [&](contact_store& s) {
      return s.async_record_optout_then(n, "acme", at(), "sms:STOP", ev, step, keys, args);
    });
  };
  auto res = then(alice, "gw1-9");
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->kind, redis::reply::type::integer);
  EXPECT_EQ(res->integer, 7);
  EXPECT_EQ(r.cli("GET after"), "gw1-9/1/1");
  const model::number_facts facts = fetch_one(r, alice);
  const model::optout_fact* o = find_optout(facts, "acme");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->evidence_id, "gw1-9");

  // An opt-out that cannot be written (the number's key holds the wrong type) stops the
  // script before the step: the step's effect is absent.
  r.cli("DEL after");
  r.cli("SET '" + pseudo().tag(bob) + "' not-a-hash");
  res = then(bob, "gw1-10");
  EXPECT_FALSE(res);
  EXPECT_EQ(r.cli("EXISTS after"), "0");
}

TEST(ContactStore, ConsentsOfSeveralKindsAndSenders) {
  redis_server r;
  const std::string id1 = record_consent(
      r, alice, consent("acme", model::consent_kind::express_written, at(-1h), at(24h)));
  const std::string id2 =
      record_consent(r, alice, consent("beta", model::consent_kind::ebr_purchase, at(-2h)));
  const std::string id3 =
      record_consent(r, alice, consent("acme", model::consent_kind::ebr_inquiry, at(-3h)));
  EXPECT_EQ(id1.size(), 19u);
  EXPECT_EQ(id1.substr(0, 3), "cn_");
  EXPECT_NE(id1, id2);
  auto f = fetch_one(r, alice);
  ASSERT_EQ(f.consents.size(), 3u);
  std::sort(f.consents.begin(), f.consents.end(),
            [](auto& a, auto& b) { return a.captured_at > b.captured_at; });
  EXPECT_EQ(f.consents[0].id, id1);
  EXPECT_EQ(f.consents[0].sender, "acme");
  EXPECT_EQ(f.consents[0].kind, model::consent_kind::express_written);
  EXPECT_EQ(f.consents[0].captured_at, at(-1h));
  EXPECT_EQ(f.consents[0].expires_at, at(24h));
  EXPECT_EQ(f.consents[0].id, contact_keys::consent_id_of(f.consents[0].evidence_id));
  EXPECT_EQ(f.consents[1].id, id2);
  EXPECT_EQ(f.consents[1].sender, "beta");
  EXPECT_EQ(f.consents[1].kind, model::consent_kind::ebr_purchase);
  EXPECT_FALSE(f.consents[1].expires_at);
  EXPECT_EQ(f.consents[2].kind, model::consent_kind::ebr_inquiry);

  // The source details are not read on the check path, but lookup has them.
  auto rec = run(r, [&](contact_store& s) { return s.async_lookup(alice); });
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->number, "+14155552671");
  ASSERT_EQ(rec->consents.size(), 3u);
  for (const auto& c : rec->consents) {
    EXPECT_EQ(c.source.method, "web_form");
    EXPECT_EQ(c.source.text, "I agree to receive marketing texts.");
    EXPECT_EQ(c.source.ip, "203.0.113.9");
    EXPECT_EQ(c.source.proof, "https://cert.example/abc");
  }
  EXPECT_EQ(rec->evidence_ids.size(), 3u);
}

// A number keeps its newest evidence ids, at most max_evidence_ids of them, from opt-outs and
// consents alike; an opt-out older than the stored one still names its evidence.
TEST(ContactStore, EvidenceIdsKeepTheNewestUpToTheBound) {
  redis_server r;
  contact_store_options o;
  o.max_evidence_ids = 3;
  const auto record_optout = [&](model::sys_time when, std::string_view ev) {
    auto res = run(
        r,
        [&](contact_store& s) {
          return s.async_record_optout(alice, "acme", when, "sms:STOP", ev);
        },
        o);
    EXPECT_TRUE(res) << res.error().message();
    return res && *res;
  };
  const auto evidence_ids = [&] {
    auto rec = run(
        r, [&](contact_store& s) { return s.async_lookup(alice); }, o);
    EXPECT_TRUE(rec) << rec.error().message();
    return rec ? rec->evidence_ids : std::vector<std::string>{};
  };
  EXPECT_TRUE(record_optout(at(), "gw1-1"));
  EXPECT_TRUE(record_optout(at(1h), "gw1-2"));
  EXPECT_EQ(evidence_ids(), (std::vector<std::string>{"gw1-2", "gw1-1"}));
  EXPECT_FALSE(record_optout(at(), "gw1-3"));  // older: not stored, still on record
  EXPECT_EQ(evidence_ids(), (std::vector<std::string>{"gw1-3", "gw1-2", "gw1-1"}));
  EXPECT_TRUE(record_optout(at(2h), "gw1-4"));
  EXPECT_EQ(evidence_ids(), (std::vector<std::string>{"gw1-4", "gw1-3", "gw1-2"}));
  auto c = consent("acme", model::consent_kind::express_written, at(3h));
  c.fact.evidence_id = "gw1-5";
  auto id = run(
      r, [&](contact_store& s) { return s.async_record_consent(alice, c); }, o);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(evidence_ids(), (std::vector<std::string>{"gw1-5", "gw1-4", "gw1-3"}));
  const auto f = fetch_one(r, alice);
  ASSERT_NE(find_optout(f, "acme"), nullptr);
  EXPECT_EQ(find_optout(f, "acme")->at, at(2h));  // the newest opt-out is the one kept
}

// A replay of the evidence log (`stopgatectl contacts rebuild`) writes each record again: the
// same consent (its id derives from the evidence id), no evidence id twice in the index.
TEST(ContactStore, WritingTheSameEvidenceAgainChangesNothing) {
  redis_server r;
  const auto c = consent("acme", model::consent_kind::express_written, at(-1h));
  const std::string id1 = record_consent(r, alice, c);
  const std::string id2 = record_consent(r, alice, c);
  EXPECT_EQ(id1, id2);
  EXPECT_EQ(id1, contact_keys::consent_id_of(c.fact.evidence_id));
  optout(r, alice, "beta", at());
  optout(r, alice, "beta", at());
  auto rec = run(r, [&](contact_store& s) { return s.async_lookup(alice); });
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->consents.size(), 1u);
  EXPECT_EQ(rec->optouts.size(), 1u);
  EXPECT_EQ(rec->evidence_ids.size(), 2u);  // the consent's and the opt-out's, once each
  // Ids differ per evidence record and carry no more than the record's id.
  EXPECT_NE(contact_keys::consent_id_of("gw1-1"), contact_keys::consent_id_of("gw1-2"));
  EXPECT_EQ(contact_keys::consent_id_of("gw1-1").size(), 19u);
}

TEST(ContactStore, OptinLiftsOnlyThatSendersOlderOptout) {
  redis_server r;
  optout(r, alice, "acme", at());
  optout(r, alice, "beta", at(2h));
  optout(r, alice, "*", at());
  auto optin = [&](const consent_record& c) {
    auto res = run(r, [&](contact_store& s) { return s.async_record_optin(alice, c); });
    EXPECT_TRUE(res) << res.error().message();
    return res ? *res : optin_result{};
  };
  const optin_result lifted = optin(consent("acme", model::consent_kind::express_written, at(1h)));
  EXPECT_EQ(lifted.outcome, optin_outcome::lifted);
  // beta opted out after this consent was captured: the opt-out stays.
  EXPECT_EQ(optin(consent("beta", model::consent_kind::express_written, at(1h))).outcome,
            optin_outcome::kept_newer);
  EXPECT_EQ(optin(consent("gamma", model::consent_kind::express, at(1h))).outcome,
            optin_outcome::no_optout);
  auto star = run(r, [&](contact_store& s) {
    return s.async_record_optin(alice, consent("*", model::consent_kind::express, at(1h)));
  });
  EXPECT_EQ(star.error(), make_error_code(contact_errc::bad_sender));

  const auto f = fetch_one(r, alice);
  EXPECT_EQ(find_optout(f, "acme"), nullptr);
  EXPECT_NE(find_optout(f, "beta"), nullptr);
  EXPECT_NE(find_optout(f, "*"), nullptr);
  EXPECT_EQ(f.consents.size(), 3u);  // the consent is stored in every case
  EXPECT_TRUE(std::any_of(f.consents.begin(), f.consents.end(), [&](auto& c) {
    return c.id == lifted.consent_id && c.sender == "acme";
  }));
}

TEST(ContactStore, RefusesBadNames) {
  redis_server r;
  auto res = run(r, [&](contact_store& s) {
    return s.async_record_optout(alice, "two words", at(), "api", "e");
  });
  EXPECT_EQ(res.error(), make_error_code(contact_errc::bad_sender));
  std::vector<commit_item> bad = {{alice, "", at(), 24h}};
  EXPECT_EQ(run(r, [&](contact_store& s) { return s.async_commit_many(bad); }),
            make_error_code(contact_errc::bad_campaign));
  std::vector<commit_item> zero = {{alice, "spring", at(), 0us}};
  EXPECT_EQ(run(r, [&](contact_store& s) { return s.async_commit_many(zero); }),
            make_error_code(contact_errc::bad_window));
  std::vector<fetch_item> bad_fetch = {{alice, "a b", 24h}};
  auto fr = run(r, [&](contact_store& s) { return s.async_fetch(bad_fetch, at()); });
  EXPECT_EQ(fr.error(), make_error_code(contact_errc::bad_campaign));
}

// --- counters --------------------------------------------------------------------------------

TEST(ContactStore, CountersInsideTheWindowOldestFirst) {
  redis_server r;
  const std::string campaign = "spring";
  commit(r, {{alice, campaign, at(-30h), 24h}, {alice, campaign, at(-20h), 24h}});
  commit(
      r,
      {{alice, campaign, at(-1h), 24h}, {alice, campaign, at(), 24h}, {alice, "other", at(), 24h}});
  const auto f = fetch(r, {{alice, campaign, 24h}, {alice, {}, {}}, {alice, campaign, {}}});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].recent_contacts, (std::vector<model::sys_time>{at(-20h), at(-1h), at()}));
  EXPECT_TRUE(f[1].recent_contacts.empty());  // no campaign: no counters read
  EXPECT_TRUE(f[2].recent_contacts.empty());  // no cap window: no counters read
  // A shorter window, and a check at an earlier instant, see only their part.
  EXPECT_EQ(fetch(r, {{alice, campaign, 2h}})[0].recent_contacts,
            (std::vector<model::sys_time>{at(-1h), at()}));
  EXPECT_EQ(fetch(r, {{alice, campaign, 24h}}, at(-2h))[0].recent_contacts,
            (std::vector<model::sys_time>{at(-20h)}));
  // Exactly one window ago is outside a rolling window.
  EXPECT_EQ(fetch(r, {{alice, campaign, 19h}}, at(-1h))[0].recent_contacts,
            (std::vector<model::sys_time>{at(-1h)}));

  // The entry from 30 h ago was trimmed by the later commits; the key has a TTL of about
  // one window.
  const std::string key = pseudo().tag(alice) + ":cap:" + campaign;
  EXPECT_EQ(r.cli("ZCARD '" + key + "'"), "3");
  const long ttl = std::stol(r.cli("PTTL '" + key + "'"));
  EXPECT_GT(ttl, 24 * 3600'000L);
  EXPECT_LE(ttl, 24 * 3600'000L + 60'000L);
}

TEST(ContactStore, CountersAreBoundedPerCampaign) {
  redis_server r;
  contact_store_options o;
  o.max_contacts = 5;
  std::vector<commit_item> items;
  for (int i = 0; i < 8; ++i) items.push_back({bob, "blast", at(std::chrono::minutes(i)), 24h});
  commit(r, items, o);
  EXPECT_EQ(r.cli("ZCARD '" + pseudo().tag(bob) + ":cap:blast'"), "5");
  std::vector<fetch_item> q = {{bob, "blast", 24h}};
  auto f = run(
      r, [&](contact_store& s) { return s.async_fetch(q, at(1h)); }, o);
  ASSERT_TRUE(f);
  ASSERT_EQ((*f)[0].recent_contacts.size(), 5u);
  EXPECT_EQ((*f)[0].recent_contacts.front(), at(3min));  // the newest five, oldest first
  EXPECT_EQ((*f)[0].recent_contacts.back(), at(7min));
}

// --- batches -------------------------------------------------------------------------------

TEST(ContactStore, ABatchOf10000IsOnePipeline) {
  redis_server r;
  constexpr std::uint32_t n = 10'000;
  auto number = [](std::uint32_t i) { return model::phone_number::nanp(415, 2'000'000 + i); };
  // A few numbers with data, spread through the batch.
  for (std::uint32_t i = 0; i < n; i += 2'500) optout(r, number(i), "acme", at());
  commit(r, {{number(7), "spring", at(-1h), 24h}});

  std::vector<fetch_item> items;
  std::uint32_t capped = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const bool cap = i % 10 == 7;
    capped += cap;
    items.push_back({number(i), cap ? "spring" : "", cap ? std::optional(24h) : std::nullopt});
  }
  const std::uint64_t before = commands_processed(r);
  std::uint64_t round_trips = 0;
  // Cache off: exactly the HGETALLs and ranges (the cache adds one poll per pipeline).
  contact_store_options no_cache;
  no_cache.cache.max_bytes = 0;
  auto res = run(
      r,
      [&](contact_store& s)
          -> asio::awaitable<boost::system::result<std::vector<model::number_facts>>> {
        auto out = co_await s.async_fetch(items, at());
        round_trips = s.round_trips();
        co_return out;
      },
      no_cache);
  const std::uint64_t after = commands_processed(r);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(round_trips, 1u);
  // One HGETALL per number and one range per capped number (+1: the first INFO itself).
  EXPECT_EQ(after - before, n + capped + 1);
  ASSERT_EQ(res->size(), n);
  for (std::uint32_t i = 0; i < n; ++i) {
    ASSERT_TRUE((*res)[i].available);
    EXPECT_EQ((*res)[i].optouts.size(), i % 2'500 == 0 ? 1u : 0u) << i;
  }
  EXPECT_EQ((*res)[7].recent_contacts, (std::vector<model::sys_time>{at(-1h)}));
}

TEST(ContactStore, CommitManyIsOnePipeline) {
  redis_server r;
  std::vector<commit_item> items;
  for (std::uint32_t i = 0; i < 1'000; ++i)
    items.push_back({model::phone_number::nanp(415, 3'000'000 + i), "spring", at(), 24h});
  std::uint64_t round_trips = 0;
  // Loads the script first, so that the measured call is one round trip.
  auto ec = run(r, [&](contact_store& s) -> asio::awaitable<boost::system::error_code> {
    if (auto e = co_await s.async_commit_contact(items[0])) co_return e;
    const std::uint64_t before = s.round_trips();
    auto e = co_await s.async_commit_many(items);
    round_trips = s.round_trips() - before;
    co_return e;
  });
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(round_trips, 1u);
  EXPECT_EQ(r.cli("ZCARD '" + pseudo().tag(items[0].number) + ":cap:spring'"), "2");
  EXPECT_EQ(r.cli("ZCARD '" + pseudo().tag(items[999].number) + ":cap:spring'"), "1");
}

TEST(ContactStore, FetchThroughputOfMostlyEmptyBatches) {
  redis_server r;
  constexpr std::uint32_t batch = 1'000, rounds = 50;
  for (std::uint32_t i = 0; i < batch; i += 100)
    optout(r, model::phone_number::nanp(650, 2'000'000 + i), "acme", at());
  std::vector<fetch_item> items;
  for (std::uint32_t i = 0; i < batch; ++i)
    items.push_back({model::phone_number::nanp(650, 2'000'000 + i), {}, {}});
  double seconds = 0;
  std::size_t optouts = 0;
  auto ec = run(r, [&](contact_store& s) -> asio::awaitable<boost::system::error_code> {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint32_t k = 0; k < rounds; ++k) {
      auto f = co_await s.async_fetch(items, at());
      if (!f) co_return f.error();
      for (const auto& x : *f) optouts += x.optouts.size();
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    co_return boost::system::error_code{};
  });
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(optouts, rounds * batch / 100);
  std::printf("[ measure  ] fetch of %u-number batches: %.0f numbers/s (%.2f ms per batch)\n",
              batch, rounds * batch / seconds, seconds / rounds * 1e3);
}

// --- privacy -------------------------------------------------------------------------------

TEST(ContactStore, KeyNamesDoNotRevealTheNumber) {
  redis_server r;
  optout(r, alice, "acme", at());
  record_consent(r, alice, consent("acme", model::consent_kind::express_written, at()));
  commit(r, {{alice, "spring", at(), 24h}});
  std::istringstream keys(r.cli("KEYS '*'"));
  int count = 0;
  for (std::string k; std::getline(keys, k); ++count) {
    EXPECT_EQ(k.rfind("{c:", 0), 0u) << k;
    EXPECT_EQ(k.find("4155552671"), std::string::npos) << k;
    EXPECT_EQ(k.find("5552671"), std::string::npos) << k;
  }
  // hash, consent details, evidence index, campaign index, counter; the change stream and
  // its counter (which hold pseudonymous keys only).
  EXPECT_EQ(count, 7);
}

TEST(ContactStore, ForgetKeepsTheSuppressionAndErasesTheRest) {
  redis_server r;
  optout(r, alice, "acme", at(), "gw1-1");
  const std::string id =
      record_consent(r, alice, consent("beta", model::consent_kind::express_written, at()));
  commit(r, {{alice, "spring", at(), 24h}});
  auto rep = run(r, [&](contact_store& s) { return s.async_forget(alice, at(1h)); });
  ASSERT_TRUE(rep) << rep.error().message();
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(rep->erased), sorted({"number", "consent:" + id, "consent_details",
                                         "counters:spring", "evidence_index"}));
  EXPECT_EQ(rep->kept, (std::vector<std::string>{"optout:acme"}));
  EXPECT_FALSE(rep->why.empty());

  // Still suppressed, through the same pseudonymous key.
  const auto f = fetch(r, {{alice, "spring", 24h}})[0];
  ASSERT_EQ(f.optouts.size(), 1u);
  EXPECT_EQ(f.optouts[0].evidence_id, "gw1-1");
  EXPECT_TRUE(f.consents.empty());
  EXPECT_TRUE(f.recent_contacts.empty());
  auto rec = run(r, [&](contact_store& s) { return s.async_lookup(alice); });
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->number, "");
  EXPECT_EQ(rec->forgotten_at, at(1h));
  EXPECT_TRUE(rec->evidence_ids.empty());
  EXPECT_TRUE(rec->counters.empty());
  // Nothing in Redis holds the number or the consent's details any more.
  // (The change stream names changed keys by pseudonym only, and is trimmed.)
  EXPECT_EQ(r.cli("KEYS '{c:" + std::string(32, '?') + "}*'"), pseudo().tag(alice));
  EXPECT_EQ(r.cli("XLEN {c:changes}"), "3");  // opt-out, consent, forget
  EXPECT_EQ(r.cli("HEXISTS '" + pseudo().tag(alice) + "' n"), "0");

  // A number with nothing to keep leaves nothing behind.
  record_consent(r, bob, consent("beta", model::consent_kind::express, at()));
  auto rep2 = run(r, [&](contact_store& s) { return s.async_forget(bob, at(1h)); });
  ASSERT_TRUE(rep2);
  EXPECT_TRUE(rep2->kept.empty());
  EXPECT_EQ(r.cli("EXISTS '" + pseudo().tag(bob) + "'"), "0");
}

TEST(ContactStore, LookupHasCountersPerCampaign) {
  redis_server r;
  commit(
      r,
      {{alice, "spring", at(-2h), 24h}, {alice, "spring", at(), 24h}, {alice, "fall", at(), 1h}});
  optout(r, alice, "acme", at(), "gw1-9");
  auto rec = run(r, [&](contact_store& s) { return s.async_lookup(alice); });
  ASSERT_TRUE(rec) << rec.error().message();
  ASSERT_EQ(rec->counters.size(), 2u);
  auto spring = std::find_if(rec->counters.begin(), rec->counters.end(),
                             [](auto& c) { return c.campaign == "spring"; });
  ASSERT_NE(spring, rec->counters.end());
  EXPECT_EQ(spring->contacts, (std::vector<model::sys_time>{at(-2h), at()}));
  EXPECT_EQ(rec->optouts.size(), 1u);
  EXPECT_EQ(rec->evidence_ids, (std::vector<std::string>{"gw1-9"}));
  EXPECT_EQ(rec->number, "+14155552671");
}

// --- sharing and failures ----------------------------------------------------------------------

TEST(ContactStore, TwoGatewaysSeeEachOthersWritesAtOnce) {
  redis_server r;
  asio::io_context io;
  redis::client c1(io.get_executor(), options_for(r)), c2(io.get_executor(), options_for(r));
  c1.start();
  c2.start();
  contact_store g1(c1, pseudo()), g2(c2, pseudo());
  const std::vector<fetch_item> items = {{alice, {}, {}}};
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await c1.async_wait_connected(5s));
    EXPECT_FALSE(co_await c2.async_wait_connected(5s));
    auto before = co_await g2.async_fetch(items, at());
    EXPECT_TRUE(before && (*before)[0].optouts.empty());
    EXPECT_TRUE(co_await g1.async_record_optout(alice, "acme", at(), "sms:STOP", "gw1-1"));
    auto seen = co_await g2.async_fetch(items, at());
    EXPECT_TRUE(seen && (*seen)[0].optouts.size() == 1);
    EXPECT_TRUE(co_await g2.async_record_optin(
        alice, consent("acme", model::consent_kind::express_written, at(1s))));
    auto lifted = co_await g1.async_fetch(items, at());
    EXPECT_TRUE(lifted && (*lifted)[0].optouts.empty() && (*lifted)[0].consents.size() == 1);
    c1.stop();
    c2.stop();
  };
  auto fut = asio::co_spawn(io, body(), asio::use_future);
  io.run();
  fut.get();
}

TEST(ContactStore, FailsFastWhileRedisIsDownAndWorksAgainAfter) {
  // hiredis writes with write(2): a command sent before the client noticed the close would
  // raise SIGPIPE. Processes using the client ignore it, as the gateway must.
  std::signal(SIGPIPE, SIG_IGN);
  redis_server r(true);
  asio::io_context io;
  redis::client client(io.get_executor(), options_for(r));  // 10 s command timeout
  client.start();
  contact_store store(client, pseudo());
  const std::vector<fetch_item> items = {{alice, "spring", 24h}};
  const std::vector<commit_item> commits = {{alice, "spring", at(), 24h}};
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await client.async_wait_connected(5s));
    EXPECT_TRUE(co_await store.async_record_optout(alice, "acme", at(), "api", "gw1-1"));
    EXPECT_FALSE(co_await store.async_commit_many(commits));

    r.stop();
    const auto t0 = std::chrono::steady_clock::now();
    auto down = co_await store.async_fetch(items, at());
    EXPECT_FALSE(down);
    auto write = co_await store.async_record_optout(alice, "beta", at(), "api", "gw1-2");
    EXPECT_FALSE(write);
    // Far below the 10 s command timeout: the client knows the connection is gone.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);

    r.start();
    EXPECT_FALSE(co_await client.async_wait_connected(10s));
    auto up = co_await store.async_fetch(items, at());
    EXPECT_TRUE(up) << (up ? "" : up.error().message());
    if (up) {
      EXPECT_EQ((*up)[0].optouts.size(), 1u);  // the AOF kept the opt-out
    }
    // The restarted server lost its script cache: writes load the scripts again.
    EXPECT_FALSE(co_await store.async_commit_many(commits));
    auto again = co_await store.async_record_optout(alice, "beta", at(), "api", "gw1-3");
    EXPECT_TRUE(again && *again);
    auto after = co_await store.async_fetch(items, at());
    EXPECT_TRUE(after && (*after)[0].optouts.size() == 2 &&
                (*after)[0].recent_contacts.size() == 2);
    client.stop();
  };
  auto fut = asio::co_spawn(io, body(), asio::use_future);
  io.run();
  fut.get();
}

TEST(ContactStore, UnreadableDataFailsClosedForThatNumberOnly) {
  redis_server r;
  optout(r, alice, "acme", at());
  r.cli("HSET '" + pseudo().tag(bob) + "' o:acme not-json");
  const auto f = fetch(r, {{alice, {}, {}}, {bob, {}, {}}});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(f[0].available);
  EXPECT_FALSE(f[1].available);
  // An unreadable opt-out is replaced by a new one, never left to block the write.
  EXPECT_TRUE(optout(r, bob, "acme", at()));
  EXPECT_TRUE(fetch_one(r, bob).available);
}

}  // namespace
}  // namespace stopgate::dnc::contacts
