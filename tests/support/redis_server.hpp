// A real redis-server child process for one test (or test suite): private directory, unix
// socket and a free loopback TCP port; stopped (SIGTERM, then SIGKILL) when destroyed.
#pragma once

#include "tests/support/temp_dir.hpp"

#include <sys/types.h>

#include <string>

namespace stopgate::test {

class redis_server {
 public:
  /// Starts the server and waits until it answers PING. `appendonly` turns on the AOF.
  explicit redis_server(bool appendonly = false);
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }
  const std::string& unix_socket() const { return socket_; }
  /// "tcp://127.0.0.1:PORT" and "unix:///path" forms of redis.url.
  std::string tcp_url() const;
  std::string unix_url() const;

  /// Stops the server (SIGTERM, wait). start() brings it back on the same port and data.
  void stop();
  void start();
  /// Pauses/resumes the process (SIGSTOP/SIGCONT): a Redis that accepts but never answers.
  void pause();
  void resume();
  bool running() const { return pid_ > 0; }

  /// Runs redis-cli against this server and returns its trimmed stdout.
  std::string cli(const std::string& args) const;

 private:
  temp_dir dir_;
  std::string socket_;
  int port_ = 0;
  bool appendonly_ = false;
  pid_t pid_ = -1;
};

/// A loopback TCP port that was free a moment ago and that no other caller gets while this
/// process runs: it is never returned twice in one process, other test processes are kept off it
/// by a lock file held until this process exits, and it lies below the kernel's ephemeral range,
/// so no outgoing connection or bind to port 0 is given it in the meantime.
int free_port();

}  // namespace stopgate::test
