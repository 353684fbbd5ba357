// The embedded default Redis (`redis.url = "managed"`): a private redis-server child process.
#pragma once

#include "redis/url.hpp"

#include <boost/system/result.hpp>

#include <sys/types.h>

#include <filesystem>
#include <memory>

namespace stopgate::redis {

enum class managed_errc {
  data_dir = 1,   // the data directory (or DATA_DIR/redis/) cannot be created or locked
  socket_path,    // DATA_DIR/redis.sock is longer than a unix socket path may be
  not_installed,  // no redis-server on PATH
  spawn_failed,   // fork/exec failed
  exited,         // redis-server exited while starting (its log says why)
  start_timeout,  // redis-server did not answer PING in time (its log says why)
  not_running,    // attach(): no server answers on DATA_DIR/redis.sock
};

const boost::system::error_category& managed_category() noexcept;
inline boost::system::error_code make_error_code(managed_errc e) noexcept {
  return {static_cast<int>(e), managed_category()};
}

/// The embedded default (`redis.url = "managed"`): a private redis-server child process with
/// its unix socket at DATA_DIR/redis.sock, data in DATA_DIR/redis/ with appendonly yes
/// (appendfsync everysec), no TCP port (--port 0), log in DATA_DIR/redis/redis.log.
/// ensure() attaches to one that already answers PING on that socket (e.g. the gateway's,
/// when stopgatectl runs beside it) and otherwise starts one and owns it; only an owned
/// server is stopped (SHUTDOWN, then SIGTERM, bounded wait) by stop() / the destructor.
/// The child runs in its own process group (a terminal's Ctrl-C reaches only the gateway,
/// which then stops Redis in order) and gets SIGTERM if the thread that started it dies.
/// Blocking (start-up and shutdown); call from one thread, outside the event loop's hot path.
class managed_server {
 public:
  static boost::system::result<std::unique_ptr<managed_server>> ensure(
      const std::filesystem::path& data_dir);
  /// Attaches to a server already answering on DATA_DIR/redis.sock and never starts one (nor
  /// creates anything under DATA_DIR): `not_running` otherwise. For tools that must not
  /// write into a Redis no gateway reads.
  static boost::system::result<std::unique_ptr<managed_server>> attach(
      const std::filesystem::path& data_dir);
  ~managed_server();
  managed_server(const managed_server&) = delete;
  managed_server& operator=(const managed_server&) = delete;

  endpoint ep() const;  // unix_socket endpoint
  bool owned() const noexcept { return pid_ > 0; }
  /// The child's process id, -1 when attached or stopped.
  pid_t pid() const noexcept { return pid_; }
  /// Stops an owned server (no-op when attached): SHUTDOWN, then SIGTERM, then SIGKILL,
  /// each with a bounded wait.
  void stop();

 private:
  managed_server(std::filesystem::path socket, pid_t pid) : socket_(std::move(socket)), pid_(pid) {}
  std::filesystem::path socket_;
  pid_t pid_ = -1;
};

}  // namespace stopgate::redis

template <>
struct boost::system::is_error_code_enum<stopgate::redis::managed_errc> : std::true_type {};
