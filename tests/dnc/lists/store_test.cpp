// The list store against a real redis-server: loads, change lists, refusals, atomic
// generation switches under a concurrent checker, and the in-process mirror.
#include "dnc/lists/store.hpp"
#include "dnc/lists/keys.hpp"
#include "dnc/lists/loader.hpp"
#include "dnc/lists/mirror.hpp"
#include "redis/slot.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <set>
#include <thread>

namespace stopgate::dnc::lists {
namespace {

namespace asio = boost::asio;
using test::redis_server;
using test::temp_dir;

redis::client_options options_for(const std::string& url) {
  redis::client_options o;
  o.ep = *redis::parse_url(url);
  o.command_timeout = std::chrono::seconds(10);
  return o;
}
redis::client_options options_for(const redis_server& r) {
  return options_for(r.unix_url());
}
redis::client_options options_for(const test::redis_cluster& c) {
  return options_for(c.url());
}

// Runs one coroutine to completion on a fresh io_context with a connected client (to a
// redis_server or a redis_cluster).
template <class Redis, class F>
auto run_with_store(const Redis& r, F f) {
  asio::io_context io;
  redis::client client(io.get_executor(), options_for(r));
  client.start();
  list_store store(client);
  using result_t = decltype(f(store).await_resume());
  // A named closure: it must outlive the coroutine that uses its captures.
  auto body = [&]() -> asio::awaitable<result_t> {
    auto ec = co_await client.async_wait_connected(std::chrono::seconds(5));
    EXPECT_FALSE(ec) << ec.message();
    auto out = co_await f(store);
    client.stop();  // lets io.run() return
    co_return out;
  };
  auto fut = asio::co_spawn(io, body(), asio::use_future);
  io.run();
  return fut.get();
}

template <class Redis>
std::pair<boost::system::error_code, load_report> load(const Redis& r,
                                                       const std::string& list,
                                                       std::vector<std::string> files,
                                                       file_format fmt = file_format::ftc,
                                                       double max_bad = 0.1) {
  load_request req;
  req.list = list;
  req.files = std::move(files);
  req.reader.format = fmt;
  req.apply = fmt == file_format::ftc_changes;
  req.max_bad_percent = max_bad;
  req.snapshot = "2026-11-28";
  return run_with_store(r, [&](list_store& s) { return async_load(s, req); });
}

template <class Redis>
bool redis_contains(const Redis& r, const std::string& list, const char* e164) {
  auto res = run_with_store(
      r, [&](list_store& s) { return s.async_contains(list, *model::parse_e164(e164)); });
  EXPECT_TRUE(res) << res.error().message();
  return res && *res;
}

// A dense area code (so it becomes a bitmap) plus a few extra numbers.
std::string dense_file(unsigned npa, std::uint32_t first, std::uint32_t count,
                       std::string extra = {}) {
  std::string s;
  s.reserve(count * 11 + extra.size());
  for (std::uint32_t i = 0; i < count; ++i)
    s += std::to_string(npa * 10'000'000ULL + first + i) + "\n";
  return s + extra;
}

TEST(ListStore, LoadThenQueryDenseSparseAndAbsent) {
  redis_server r;
  temp_dir d;
  auto f =
      d.write("federal.txt", dense_file(415, 2'000'000, 25'000, "212,5552671\r\n\n6175552671\n"));
  auto [ec, rep] = load(r, "federal", {f.string()});
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(rep.numbers, 25'002u);
  EXPECT_EQ(rep.published.count, 25'002u);
  EXPECT_EQ(rep.npa_bitmaps, 1u);
  EXPECT_EQ(rep.sparse_members, 2u);
  EXPECT_EQ(rep.published.generation, 1u);
  EXPECT_TRUE(redis_contains(r, "federal", "+14152000000"));
  EXPECT_TRUE(redis_contains(r, "federal", "+14152024999"));
  EXPECT_FALSE(redis_contains(r, "federal", "+14152025000"));
  EXPECT_TRUE(redis_contains(r, "federal", "+12125552671"));
  EXPECT_TRUE(redis_contains(r, "federal", "+16175552671"));
  EXPECT_FALSE(redis_contains(r, "federal", "+16175552672"));
  // The bitmap key is a plain 1.25 MB string that GETBIT agrees with.
  EXPECT_EQ(r.cli("STRLEN '" + list_keys::npa("federal", 1, 415) + "'"), "1250000");
  EXPECT_EQ(r.cli("GETBIT '" + list_keys::npa("federal", 1, 415) + "' 2000000"), "1");
  EXPECT_EQ(r.cli("GET '" + list_keys::current("federal") + "'"), "1");
  EXPECT_EQ(r.cli("SMEMBERS " + std::string(list_keys::lists)), "federal");

  auto st = run_with_store(r, [](list_store& s) { return s.async_status(); });
  ASSERT_TRUE(st);
  ASSERT_EQ(st->size(), 1u);
  EXPECT_EQ((*st)[0].meta.count, 25'002u);
  EXPECT_EQ((*st)[0].meta.snapshot, "2026-11-28");
  EXPECT_EQ((*st)[0].npa_bitmaps, 1u);
  EXPECT_GT((*st)[0].redis_bytes, 1'250'000u);
}

TEST(ListStore, ReloadSwitchesGenerationAndFreesTheOldOne) {
  redis_server r;
  temp_dir d;
  auto a = d.write("a.txt", dense_file(415, 2'000'000, 20'000));
  auto b = d.write("b.txt", dense_file(415, 3'000'000, 20'000));
  ASSERT_FALSE(load(r, "federal", {a.string()}).first);
  ASSERT_FALSE(load(r, "federal", {b.string()}).first);
  EXPECT_FALSE(redis_contains(r, "federal", "+14152000000"));
  EXPECT_TRUE(redis_contains(r, "federal", "+14153000000"));
  EXPECT_EQ(r.cli("GET '" + list_keys::current("federal") + "'"), "2");
  // Generation 1 is gone: its bitmap and meta were unlinked.
  EXPECT_EQ(r.cli("EXISTS '" + list_keys::npa("federal", 1, 415) + "'"), "0");
  EXPECT_EQ(r.cli("EXISTS '" + list_keys::meta("federal", 1) + "'"), "0");
  // Left: current, next, meta:2, the bitmap of generation 2 and the list of lists.
  EXPECT_EQ(r.cli("DBSIZE"), "5");
}

// On Redis Cluster a list's bitmaps spread over the shards (each data key its own hash tag)
// while its pointer, meta and lock share the list's: a load, queries answered by Redis, the
// in-process copy read back, and a reload that switches atomically and frees the old
// generation on every node.
TEST(ListStoreCluster, BitmapsSpreadOverTheShardsAndAReloadFreesEveryNode) {
  test::redis_cluster cluster(3, 0);
  temp_dir d;
  const unsigned npas[] = {212, 312, 415, 617, 718, 917, 305, 206};
  std::string first, second;
  for (unsigned npa : npas) {
    first += dense_file(npa, 2'000'000, 20'000);
    second += dense_file(npa, 3'000'000, 20'000);
  }
  first += "+442079460000\n";  // not NANP: the sparse set
  auto a = d.write("a.txt", first);
  auto b = d.write("b.txt", second);
  auto [ec, rep] = load(cluster, "federal", {a.string()}, file_format::lines);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(rep.npa_bitmaps, 8u);
  EXPECT_EQ(rep.sparse_members, 1u);
  std::set<int> shards;
  for (unsigned npa : npas) shards.insert(cluster.primary_of_slot(redis::key_slot(list_keys::npa("federal", 1, npa))));
  EXPECT_GE(shards.size(), 2u) << "the bitmaps of one list live on several shards";
  EXPECT_TRUE(redis_contains(cluster, "federal", "+14152000000"));
  EXPECT_FALSE(redis_contains(cluster, "federal", "+14153000000"));
  EXPECT_TRUE(redis_contains(cluster, "federal", "+442079460000"));
  auto gen = run_with_store(cluster, [](list_store& s) { return s.async_read("federal", nullptr); });
  ASSERT_TRUE(gen) << gen.error().message();
  EXPECT_EQ(gen->data->meta().count, 8u * 20'000u + 1u);

  ASSERT_FALSE(load(cluster, "federal", {b.string()}, file_format::lines).first);
  EXPECT_FALSE(redis_contains(cluster, "federal", "+14152000000"));
  EXPECT_TRUE(redis_contains(cluster, "federal", "+14153000000"));
  EXPECT_FALSE(redis_contains(cluster, "federal", "+442079460000"));
  // Generation 1 is gone from every node: left are current, next, meta 2, its 8 bitmaps and
  // the list of lists.
  int keys = 0;
  for (int port : cluster.primaries()) keys += std::stoi(cluster.cli(port, "DBSIZE"));
  EXPECT_EQ(keys, 12);
  for (unsigned npa : npas) {
    const std::string k = list_keys::npa("federal", 1, npa);
    EXPECT_EQ(cluster.cli(cluster.primary_of_slot(redis::key_slot(k)), "EXISTS '" + k + "'"), "0") << k;
  }
}

TEST(ListStore, RefusedLoadLeavesTheOldGenerationAnswering) {
  redis_server r;
  temp_dir d;
  auto good = d.write("good.txt", dense_file(415, 2'000'000, 20'000));
  ASSERT_FALSE(load(r, "federal", {good.string()}).first);
  // 2 bad lines in 1,002 (0.2 %) exceed the default 0.1 %.
  auto bad = d.write("bad.txt", dense_file(212, 2'000'000, 1'000, "hello\n0125552671\n"));
  auto [ec, rep] = load(r, "federal", {bad.string()});
  EXPECT_EQ(ec, load_errc::too_many_bad_lines);
  EXPECT_EQ(rep.bad, 2u);
  ASSERT_EQ(rep.first_bad.size(), 2u);
  EXPECT_EQ(rep.first_bad[0].second.line_no, 1001u);
  EXPECT_EQ(rep.first_bad[1].second.line_no, 1002u);
  EXPECT_TRUE(redis_contains(r, "federal", "+14152000000"));
  EXPECT_FALSE(redis_contains(r, "federal", "+12122000000"));
  EXPECT_EQ(r.cli("GET '" + list_keys::current("federal") + "'"), "1");
  // With a higher limit the same file loads.
  auto [ec2, rep2] = load(r, "federal", {bad.string()}, file_format::ftc, 1.0);
  EXPECT_FALSE(ec2) << ec2.message();
  EXPECT_TRUE(redis_contains(r, "federal", "+12122000000"));
}

TEST(ListStore, GarbageAndMissingFilesChangeNothing) {
  redis_server r;
  temp_dir d;
  auto good = d.write("good.txt", dense_file(415, 2'000'000, 20'000));
  ASSERT_FALSE(load(r, "federal", {good.string()}).first);
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage += char((i * 7919) % 256);
  auto g = d.write("garbage.bin", garbage);
  EXPECT_TRUE(load(r, "federal", {g.string()}).first);
  EXPECT_EQ(load(r, "federal", {(d.path() / "missing.txt").string()}).first, load_errc::file_error);
  auto empty = d.write("empty.txt", "\n\n");
  EXPECT_EQ(load(r, "federal", {empty.string()}).first, load_errc::no_numbers);
  EXPECT_TRUE(redis_contains(r, "federal", "+14152000000"));
  EXPECT_EQ(r.cli("GET '" + list_keys::current("federal") + "'"), "1");
}

TEST(ListStore, GzipLoadsTheSameAsPlain) {
  redis_server r;
  temp_dir d;
  const std::string text = dense_file(415, 2'000'000, 20'000, "212,5552671\n");
  auto gz = d.path() / "list.txt.gz";
  gzFile out = gzopen(gz.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, text.data(), unsigned(text.size())), int(text.size()));
  gzclose(out);
  auto [ec, rep] = load(r, "federal", {gz.string()});
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(rep.published.count, 20'001u);
  EXPECT_TRUE(redis_contains(r, "federal", "+12125552671"));
  EXPECT_TRUE(redis_contains(r, "federal", "+14152019999"));
}

TEST(ListStore, ChangeListAddsAndDeletesOnTheCurrentGeneration) {
  redis_server r;
  temp_dir d;
  auto full = d.write("full.txt", dense_file(415, 2'000'000, 20'000, "2125552671\n"));
  ASSERT_FALSE(load(r, "federal", {full.string()}).first);
  auto changes = d.write("changes.txt",
                         "4152000000,2026-11-28,D\n"
                         "4159999999,2026-11-28,A\n"
                         "2125552671,2026-11-28,D\n"
                         "3125552671,2026-11-28,A\n");
  auto [ec, rep] = load(r, "federal", {changes.string()}, file_format::ftc_changes);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(rep.adds, 2u);
  EXPECT_EQ(rep.removes, 2u);
  EXPECT_EQ(rep.published.count, 20'001u);  // 20,001 - 2 deleted + 2 added
  EXPECT_EQ(rep.published.generation, 2u);
  EXPECT_FALSE(redis_contains(r, "federal", "+14152000000"));
  EXPECT_TRUE(redis_contains(r, "federal", "+14159999999"));
  EXPECT_FALSE(redis_contains(r, "federal", "+12125552671"));
  EXPECT_TRUE(redis_contains(r, "federal", "+13125552671"));
  // Applying to a list that was never loaded is refused.
  EXPECT_EQ(load(r, "nothere", {changes.string()}, file_format::ftc_changes).first,
            list_errc::no_such_list);
}

TEST(ListStore, ChangeListReusesUntouchedAreaCodes) {
  redis_server r;
  temp_dir d;
  auto full =
      d.write("full.txt", dense_file(415, 2'000'000, 20'000) + dense_file(212, 2'000'000, 20'000));
  ASSERT_FALSE(load(r, "federal", {full.string()}).first);
  auto changes = d.write("changes.txt", "4159999999,2026-11-28,A\n");
  ASSERT_FALSE(load(r, "federal", {changes.string()}, file_format::ftc_changes).first);
  auto meta2 = list_keys::meta("federal", 2);
  // 212 was not touched: generation 2 points at generation 1's key, which still exists.
  EXPECT_EQ(r.cli("HGET '" + meta2 + "' npa:212"), list_keys::npa("federal", 1, 212));
  EXPECT_EQ(r.cli("HGET '" + meta2 + "' npa:415"), list_keys::npa("federal", 2, 415));
  EXPECT_EQ(r.cli("EXISTS '" + list_keys::npa("federal", 1, 212) + "'"), "1");
  EXPECT_EQ(r.cli("EXISTS '" + list_keys::npa("federal", 1, 415) + "'"), "0");
  EXPECT_TRUE(redis_contains(r, "federal", "+12122000000"));
}

TEST(ListStore, ConcurrentLoadOfTheSameListIsRefused) {
  redis_server r;
  temp_dir d;
  r.cli("SET '" + list_keys::lock("federal") + "' someone-else");
  auto f = d.write("f.txt", dense_file(415, 2'000'000, 100));
  EXPECT_EQ(load(r, "federal", {f.string()}).first, list_errc::locked);
  r.cli("DEL '" + list_keys::lock("federal") + "'");
  EXPECT_FALSE(load(r, "federal", {f.string()}).first);
}

// The acceptance test: reloads while a checker runs; zero errors, and every batch
// answered entirely from the old or entirely from the new generation.
// Reloads under a checker reading the in-process copy: every answer comes from one generation.
template <class Redis>
void reload_while_checking(const Redis& r) {
  temp_dir d;
  // Generation A lists 415-2xxxxxx numbers, generation B 415-3xxxxxx: a probe batch of both
  // kinds tells which generation answered.
  auto a = d.write("a.txt", dense_file(415, 2'000'000, 30'000, "2125552671\n"));
  auto b = d.write("b.txt", dense_file(415, 3'000'000, 30'000, "3125552671\n"));
  ASSERT_FALSE(load(r, "federal", {a.string()}).first);

  asio::io_context io;
  list_mirror::options mo;
  mo.redis = options_for(r);
  list_mirror mirror(io.get_executor(), mo);
  std::atomic<std::uint64_t> installs{0};
  mirror.on_installed([&](const model::lists_snapshot&) { ++installs; });
  mirror.start();
  std::thread loop([&] { io.run(); });

  auto wait_for = [&](std::uint64_t n) {
    for (int i = 0; i < 500 && installs.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return installs.load() >= n;
  };
  ASSERT_TRUE(wait_for(1));

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> checks{0}, errors{0}, saw_a{0}, saw_b{0};
  const std::vector<model::phone_number> probe = {
      *model::parse_e164("+14152000000"), *model::parse_e164("+14152029999"),
      *model::parse_e164("+12125552671"), *model::parse_e164("+14153000000"),
      *model::parse_e164("+14153029999"), *model::parse_e164("+13125552671")};
  std::thread checker([&] {
    bool out[6];
    while (!stop.load()) {
      auto snap = mirror.current();
      const model::list_generation* g = snap->find("federal");
      if (!g) {
        ++errors;
        continue;
      }
      g->contains_many(probe, out);
      const bool is_a = out[0] && out[1] && out[2] && !out[3] && !out[4] && !out[5];
      const bool is_b = !out[0] && !out[1] && !out[2] && out[3] && out[4] && out[5];
      if (is_a)
        ++saw_a;
      else if (is_b)
        ++saw_b;
      else
        ++errors;
      ++checks;
    }
  });
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(load(r, "federal", {(i % 2 ? a : b).string()}).first);
    ASSERT_TRUE(wait_for(std::uint64_t(i + 2)));
  }
  stop = true;
  checker.join();
  asio::post(io, [&] { mirror.stop(); });
  loop.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_GT(saw_a.load(), 0u);
  EXPECT_GT(saw_b.load(), 0u);
  EXPECT_GT(checks.load(), 100u);
  EXPECT_EQ(mirror.current()->find("federal")->meta().generation, 5u);
}

TEST(ListMirror, ReloadWhileCheckingAnswersFromOneGenerationOnly) {
  redis_server r;
  reload_while_checking(r);
}

// The same on Redis Cluster: the announcement reaches the mirror through any node, and the
// generation it reads is spread over the shards.
TEST(ListMirrorCluster, ReloadWhileCheckingAnswersFromOneGenerationOnly) {
  test::redis_cluster cluster(3, 0);
  reload_while_checking(cluster);
}

}  // namespace
}  // namespace stopgate::dnc::lists
