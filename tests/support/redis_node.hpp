// One redis-server child process on a loopback TCP port (a cluster node, a replica or a
// Sentinel), for the multi-process fixtures. Killed (SIGKILL) with the object, and with the
// test process (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace stopgate::test {

class redis_node {
 public:
  /// Runs `redis-server ARGS...` (ARGS must include --port PORT) and, with `wait`, waits
  /// until it answers PING on `port` (10 s), else throws with the log's path.
  redis_node(int port, std::vector<std::string> args, std::filesystem::path log, bool wait = true);
  ~redis_node();
  redis_node(const redis_node&) = delete;
  redis_node& operator=(const redis_node&) = delete;

  int port() const { return port_; }
  /// Waits until it answers PING (10 s), else throws with the log's path: for several
  /// nodes started at once.
  void wait_ready();
  bool running() const { return pid_ > 0; }
  /// SIGKILL and reap: a crash, nothing flushed.
  void kill();
  /// Runs `redis-cli -p PORT ARGS` (ARGS is shell text) and returns its trimmed stdout.
  std::string cli(const std::string& args) const;

 private:
  int port_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

/// `redis-cli -p PORT ARGS` (ARGS is shell text): its trimmed stdout ("" when nothing runs).
std::string redis_cli(int port, const std::string& args);

/// The value of "name:value" in INFO-style text (CLUSTER INFO, INFO replication), or "".
std::string info_field(const std::string& text, const std::string& name);

/// Polls `pred` every 20 ms until it holds or `limit` passes; returns its last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit);

}  // namespace stopgate::test
