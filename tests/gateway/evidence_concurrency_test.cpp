// Group commit under concurrency: 1,000 coroutines on two io_contexts (two threads) append at
// once; each must resume on its own thread and only after an fdatasync that covers its record.
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/segment.hpp"
#include "gateway/evidence/verify.hpp"
#include "tests/gateway/evidence_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>

#include <atomic>
#include <thread>

namespace stopgate::evidence {
namespace {

// The newest seq in a file according to the file itself, read through /proc so the test
// does not trust the log's own bookkeeping.
std::uint64_t last_seq_on_disk(int fd) {
  auto line = read_last_line("/proc/self/fd/" + std::to_string(fd), 1 << 20);
  if (!line || !*line) return 0;
  return boost::json::parse(**line).at("seq").to_number<std::uint64_t>();
}

TEST(EvidenceConcurrency, EveryAppenderResumesOnItsExecutorAfterItsFdatasync) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.checkpoint_every = 100;
  opts.max_queue = 256;  // fewer slots than appenders: exercises backpressure as well
  std::atomic<std::uint64_t> fsyncs{0}, durable_on_disk{0};
  log_hooks hooks;
  hooks.fdatasync = [&](int fd) {
    const int rc = ::fdatasync(fd);
    ++fsyncs;
    durable_on_disk.store(last_seq_on_disk(fd));
    return rc;
  };
  auto log = log::open(opts, hooks).value();

  constexpr int appenders = 1000;
  boost::asio::io_context ctx[2];
  std::thread::id runner[2];
  std::atomic<int> ok{0}, early{0}, wrong_thread{0};
  for (int i = 0; i < appenders; ++i) {
    const int c = i % 2;
    boost::asio::co_spawn(
        ctx[c],
        [&, c, i]() -> boost::asio::awaitable<void> {
          auto r = co_await log->async_append(record_type::decision,
                                              test::fields("+14155552671", std::to_string(i)));
          if (!r) co_return;
          if (r->seq > durable_on_disk.load()) ++early;
          if (std::this_thread::get_id() != runner[c]) ++wrong_thread;
          ++ok;
        },
        boost::asio::detached);
  }
  std::thread t0([&] {
    runner[0] = std::this_thread::get_id();
    ctx[0].run();
  });
  std::thread t1([&] {
    runner[1] = std::this_thread::get_id();
    ctx[1].run();
  });
  t0.join();
  t1.join();

  EXPECT_EQ(ok.load(), appenders);
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(wrong_thread.load(), 0);
  const auto c = log->counters();
  EXPECT_EQ(c.records, std::uint64_t(appenders + appenders / 100));
  EXPECT_EQ(c.fsyncs, fsyncs.load());
  // Group commit: far fewer fdatasyncs than records.
  EXPECT_LT(fsyncs.load(), std::uint64_t(appenders));
  EXPECT_EQ(c.queue_depth, 0u);
  log->close();
  auto r = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
  EXPECT_EQ(r.records, std::uint64_t(appenders + appenders / 100));
}

TEST(EvidenceConcurrency, SyncAppendersFromManyThreads) {
  stopgate::test::temp_dir tmp;
  auto log = log::open(test::small_options(tmp.path())).value();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (log->append_sync(record_type::status, test::fields("+14155552671"))) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
  log->close();
  EXPECT_FALSE(verify_directory(tmp.path(), "test-hmac-key-0123456789")->failure);
}

}  // namespace
}  // namespace stopgate::evidence
