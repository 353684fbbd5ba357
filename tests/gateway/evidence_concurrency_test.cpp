// Group commit under concurrency: 1,000 coroutines on two io_contexts (two threads) append at
// once; each must resume on its own thread and only after an fdatasync that covers its record.
#include "gateway/evidence/error.hpp"
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
#include <cerrno>
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

// Fail closed: when fdatasync fails, every appender in flight (queued, held back, in the batch)
// resumes on its own thread with an error, none is acknowledged, and later appends fail.
TEST(EvidenceConcurrency, FailedFdatasyncFailsEveryAppenderAndPoisonsTheLog) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.max_queue = 16;  // most appenders are held back when the failure happens
  log_hooks hooks;
  hooks.fdatasync = [](int) {
    errno = EIO;
    return -1;
  };
  auto log = log::open(opts, hooks).value();

  constexpr int appenders = 300;
  boost::asio::io_context ctx[2];
  std::thread::id runner[2];
  std::atomic<int> acknowledged{0}, failed{0}, wrong_thread{0}, float_rejected{0};
  for (int i = 0; i < appenders; ++i) {
    const int c = i % 2;
    boost::asio::co_spawn(
        ctx[c],
        [&, c, i]() -> boost::asio::awaitable<void> {
          auto f = test::fields("+14155552671", std::to_string(i));
          if (i == 7) f["price"] = 0.5;  // rejected on the appender's thread
          auto r = co_await log->async_append(record_type::decision, std::move(f));
          if (std::this_thread::get_id() != runner[c]) ++wrong_thread;
          if (r) ++acknowledged;
          else if (r.error() == errc::unsupported_value) ++float_rejected;
          else if (r.error() == boost::system::error_code(EIO, boost::system::system_category()) ||
                   r.error() == errc::failed)
            ++failed;
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
  t0.join();  // returns only once every appender has resumed
  t1.join();

  EXPECT_EQ(acknowledged.load(), 0);
  EXPECT_EQ(float_rejected.load(), 1);
  EXPECT_EQ(failed.load(), appenders - 1);
  EXPECT_EQ(wrong_thread.load(), 0);
  EXPECT_EQ(log->durable_seq(), 0u);
  EXPECT_EQ(log->append_sync(record_type::status, test::fields("+14155552671")).error(),
            errc::failed);
}

// An appender's thread may stop and free its io_context as soon as its append resumed (a
// worker shutting down after its last request does). The writer thread must not touch that
// io_context after posting the completion. The hook holds the writer just after the post, so
// the appender has resumed and its io_context is gone by the time the writer goes on: under
// AddressSanitizer the old writer, which then destroyed its work-counting copy of the
// executor, failed this at once (heap-use-after-free, as in CI); without a sanitizer it
// checks that every round resumes.
TEST(EvidenceConcurrency, AnAppendersIoContextMayGoAwayAsSoonAsItResumed) {
  stopgate::test::temp_dir tmp;
  log_hooks hooks;
  hooks.after_completions_posted = [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
  auto log = log::open(test::small_options(tmp.path()), hooks).value();
  constexpr int rounds = 50;
  int resumed = 0;
  for (int i = 0; i < rounds; ++i) {
    auto io = std::make_unique<boost::asio::io_context>();
    bool ok = false;
    boost::asio::co_spawn(
        *io,
        [&]() -> boost::asio::awaitable<void> {
          auto r = co_await log->async_append(record_type::decision,
                                              test::fields("+14155552671", std::to_string(i)));
          ok = r.has_value();
          // As a worker that stops after its last request: stop() does not wait for work
          // that is still counted elsewhere.
          io->stop();
        },
        boost::asio::detached);
    std::thread t([&] { io->run(); });
    t.join();
    io.reset();
    if (ok) ++resumed;
  }
  EXPECT_EQ(resumed, rounds);
  log->close();
}

}  // namespace
}  // namespace stopgate::evidence
