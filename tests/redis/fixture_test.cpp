#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace stopgate::test {
namespace {

TEST(RedisFixture, StartsStopsAndRestartsWithData) {
  redis_server r(/*appendonly=*/true);
  EXPECT_EQ(r.cli("SET k v"), "OK");
  r.stop();
  EXPECT_FALSE(r.running());
  EXPECT_EQ(r.cli("PING"), "");
  r.start();
  EXPECT_EQ(r.cli("GET k"), "v");
}

}  // namespace
}  // namespace stopgate::test
