// The embedded Redis: a private redis-server child in a data directory.
#include "redis/managed_server.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace stopgate::redis {
namespace {

namespace fs = std::filesystem;

// One synchronous command on the unix socket; nullopt when nothing answers.
std::optional<std::string> command(const std::string& socket, const char* cmd) {
  redisContext* c = redisConnectUnixWithTimeout(socket.c_str(), timeval{1, 0});
  if (c == nullptr) return std::nullopt;
  std::optional<std::string> out;
  if (c->err == 0) {
    if (auto* r = static_cast<redisReply*>(redisCommand(c, cmd))) {
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        out = std::string(r->element[1]->str, r->element[1]->len);
      else if (r->str != nullptr)
        out = std::string(r->str, r->len);
      else
        out = std::string();
      freeReplyObject(r);
    }
  }
  redisFree(c);
  return out;
}

TEST(RedisManaged, StartsAttachesStopsAndKeepsData) {
  test::temp_dir dir;
  auto owner = managed_server::ensure(dir.path());
  ASSERT_TRUE(owner) << owner.error().message();
  ASSERT_TRUE((*owner)->owned());
  const endpoint ep = (*owner)->ep();
  EXPECT_EQ(ep.type, endpoint::kind::unix_socket);
  EXPECT_EQ(fs::path(ep.path), fs::absolute(dir.path() / "redis.sock"));
  EXPECT_EQ(command(ep.path, "CONFIG GET appendonly"), "yes");
  EXPECT_EQ(command(ep.path, "CONFIG GET appendfsync"), "everysec");
  EXPECT_EQ(command(ep.path, "CONFIG GET port"), "0");
  EXPECT_EQ(command(ep.path, "CONFIG GET dir"), fs::absolute(dir.path() / "redis").string());
  EXPECT_EQ(command(ep.path, "SET optout:+14155552671 1"), "OK");

  // A second program (stopgatectl beside the gateway) attaches and does not own it.
  auto second = managed_server::ensure(dir.path());
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE((*second)->owned());
  EXPECT_EQ((*second)->ep().path, ep.path);
  (*second)->stop();
  second->reset();
  EXPECT_EQ(command(ep.path, "PING"), "PONG");  // the attached one did not stop it

  (*owner)->stop();
  EXPECT_FALSE(command(ep.path, "PING"));
  EXPECT_FALSE((*owner)->owned());

  // Started again on the same directory: the append-only file brings the data back.
  auto again = managed_server::ensure(dir.path());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE((*again)->owned());
  EXPECT_EQ(command(ep.path, "GET optout:+14155552671"), "1");
  EXPECT_FALSE(fs::exists(dir.path() / "redis" / "dump.rdb"));  // it came from the AOF
}

// The append-only file holds numbers in clear: the modes of the evidence log (directory 0700,
// files at most 0640), also for files an earlier version left world-readable.
TEST(RedisManaged, ItsFilesAreReadableOnlyByTheGatewaysUserAndGroup) {
  test::temp_dir dir;
  const fs::path redis_dir = dir.path() / "redis";
  fs::create_directories(redis_dir);
  fs::permissions(redis_dir, fs::perms(0755), fs::perm_options::replace);
  const fs::path old_file = redis_dir / "left-by-an-older-version.aof";
  std::ofstream(old_file) << "*1\r\n$4\r\nPING\r\n";
  fs::permissions(old_file, fs::perms(0666), fs::perm_options::replace);

  auto s = managed_server::ensure(dir.path());
  ASSERT_TRUE(s) << s.error().message();
  const std::string socket = (*s)->ep().path;
  EXPECT_EQ(command(socket, "SET number +14155552671"), "OK");
  (*s)->stop();  // SHUTDOWN: the append-only file is written and synced

  EXPECT_EQ(fs::status(redis_dir).permissions(), fs::perms(0700));
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(redis_dir)) {
    const auto mode = fs::symlink_status(e.path()).permissions();
    EXPECT_EQ(mode & fs::perms(027), fs::perms::none)
        << e.path() << " has mode " << std::oct << static_cast<unsigned>(mode);
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_GE(files, 3) << "the AOF, its manifest and the log";
}

TEST(RedisManaged, DestructorStopsAnOwnedServer) {
  test::temp_dir dir;
  pid_t pid = -1;
  std::string socket;
  {
    auto s = managed_server::ensure(dir.path());
    ASSERT_TRUE(s) << s.error().message();
    pid = (*s)->pid();
    socket = (*s)->ep().path;
    ASSERT_GT(pid, 0);
  }
  EXPECT_FALSE(command(socket, "PING"));
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped, not a zombie
  EXPECT_EQ(errno, ESRCH);
}

TEST(RedisManaged, MissingRedisServerIsAClearError) {
  test::temp_dir dir;
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir.path() / "empty-bin").c_str(), 1);
  auto s = managed_server::ensure(dir.path());
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(managed_errc::not_installed));
  EXPECT_NE(s.error().message().find("redis-server"), std::string::npos);
}

TEST(RedisManaged, ServerThatCannotStartPointsAtItsLog) {
  test::temp_dir dir;
  // A file where Redis needs its append-only directory: redis-server refuses to start.
  dir.write("redis/appendonlydir", "not a directory");
  auto s = managed_server::ensure(dir.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(managed_errc::exited));
  EXPECT_NE(s.error().message().find("redis.log"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.path() / "redis" / "redis.log"));
}

// Something on DATA_DIR/redis.sock that hangs up at once (a server dying as we probe it): the
// probe's write then fails with EPIPE, and the process must survive it without ignoring SIGPIPE.
TEST(RedisManaged, AServerHangingUpOnTheProbeDoesNotKillTheCaller) {
  ASSERT_EQ(std::signal(SIGPIPE, SIG_DFL), SIG_DFL);  // the test process's default: SIGPIPE kills
  test::temp_dir dir;
  const std::string path = (dir.path() / "redis.sock").string();
  const int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(lfd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lfd, 64), 0);
  std::atomic<bool> done{false};
  std::atomic<int> hung_up{0};
  std::thread hanger([&] {
    while (!done) {
      pollfd p{lfd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ::close(c);  // hang up before the command arrives
      ++hung_up;
    }
  });
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir.path() / "empty-bin").c_str(), 1);  // never start a real server
  for (int i = 0; i < 50; ++i) {
    auto s = managed_server::ensure(dir.path());
    ASSERT_FALSE(s);  // nothing that answers PING: no server to attach to, none to start
    EXPECT_EQ(s.error(), make_error_code(managed_errc::not_installed));
  }
  ::setenv("PATH", saved.c_str(), 1);
  done = true;
  hanger.join();
  ::close(lfd);
  EXPECT_GT(hung_up.load(), 0);
}

TEST(RedisManaged, TooLongSocketPathIsRefused) {
  test::temp_dir dir;
  auto s = managed_server::ensure(dir.path() / std::string(120, 'd'));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(managed_errc::socket_path));
  EXPECT_FALSE(fs::exists(dir.path() / std::string(120, 'd')));  // nothing created
}

}  // namespace
}  // namespace stopgate::redis
