#include "gateway/net/busy_poll.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace stopgate::gateway::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(SpinWindow, StartsAtTheLongestAndShrinksToNothingOnLongWaits) {
  spin_window w(100us);
  EXPECT_EQ(w.current(), 100us);
  w.blocked_for(2ms);  // an fsync, a carrier: spinning would have been waste
  EXPECT_EQ(w.current(), 50us);
  w.blocked_for(2ms);
  EXPECT_EQ(w.current(), 25us);
  w.blocked_for(2ms);
  EXPECT_EQ(w.current(), 12500ns);
  w.blocked_for(2ms);  // below an eighth of the longest: off
  EXPECT_EQ(w.current(), 0us);
  w.blocked_for(2ms);
  EXPECT_EQ(w.current(), 0us);
}

TEST(SpinWindow, ShortWaitsEarnItBackUpToTheLongest) {
  spin_window w(100us);
  for (int i = 0; i < 6; ++i) w.blocked_for(5ms);
  ASSERT_EQ(w.current(), 0us);
  w.blocked_for(60us);  // a spin of the longest window would have caught it
  EXPECT_EQ(w.current(), 12500ns);
  w.blocked_for(60us);
  EXPECT_EQ(w.current(), 25us);
  w.blocked_for(100us);
  EXPECT_EQ(w.current(), 50us);
  w.blocked_for(1us);
  EXPECT_EQ(w.current(), 100us);
  w.blocked_for(1us);
  EXPECT_EQ(w.current(), 100us);  // never past the configured longest
}

TEST(SpinWindow, ContentionHalvesItAndRepeatedContentionStopsIt) {
  spin_window w(100us);
  w.contended();
  EXPECT_EQ(w.current(), 50us);
  w.contended();
  w.contended();
  EXPECT_EQ(w.current(), 12500ns);
  w.contended();
  EXPECT_EQ(w.current(), 0us);
}

TEST(SpinWindow, ZeroMeansOffForGood) {
  spin_window w(0us);
  w.blocked_for(1us);
  EXPECT_EQ(w.current(), 0us);
}

// The loop must behave like io_context::run(): run every handler (posted from this thread
// or another, timers), return when stopped, and let handler exceptions through.
TEST(BusyPolling, RunsPostedWorkTimersAndWorkFromOtherThreadsUntilStopped) {
  for (auto longest : {0us, 100us}) {
    asio::io_context io{1};
    auto guard = asio::make_work_guard(io);
    spin_window w(longest);
    int posted = 0, fired = 0, foreign = 0;
    asio::post(io, [&] { ++posted; });
    asio::steady_timer t(io);
    t.expires_after(20ms);  // a long wait: the window shrinks, the timer still fires
    t.async_wait([&](boost::system::error_code ec) {
      if (!ec) ++fired;
    });
    std::thread other([&] {
      std::this_thread::sleep_for(40ms);
      asio::post(io, [&] {
        ++foreign;
        io.stop();
      });
    });
    run_busy_polling(io, w);
    other.join();
    EXPECT_EQ(posted, 1) << longest.count();
    EXPECT_EQ(fired, 1) << longest.count();
    EXPECT_EQ(foreign, 1) << longest.count();
    EXPECT_TRUE(io.stopped());
    if (longest.count() > 0) {
      EXPECT_LT(w.current(), longest);
    }
  }
}

TEST(BusyPolling, ReturnsWhenWorkRunsOutAndPassesExceptionsOn) {
  asio::io_context io{1};
  spin_window w(100us);
  int ran = 0;
  asio::post(io, [&] { ++ran; });
  run_busy_polling(io, w);  // no guard: returns once the handler ran
  EXPECT_EQ(ran, 1);

  asio::io_context io2{1};
  asio::post(io2, [] { throw std::runtime_error("boom"); });
  asio::post(io2, [&] { ++ran; });
  EXPECT_THROW(run_busy_polling(io2, w), std::runtime_error);
  run_busy_polling(io2, w);  // called again, it goes on with the rest
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace stopgate::gateway::net
