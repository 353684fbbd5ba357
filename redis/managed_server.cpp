#include "redis/managed_server.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace stopgate::redis {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Files 0640, directories 0750 (inside the 0700 data directory).
constexpr mode_t child_umask = 027;

class managed_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.redis.managed"; }
  std::string message(int ev) const override {
    switch (static_cast<managed_errc>(ev)) {
      case managed_errc::data_dir:
        return "cannot create or lock the data directory for Redis";
      case managed_errc::socket_path:
        return "DATA_DIR/redis.sock is too long for a unix socket (max 107 bytes); use a "
               "shorter server.data_dir";
      case managed_errc::not_installed:
        return "redis-server not found on PATH; install it (Debian/Ubuntu: apt-get install "
               "redis-server) or set redis.url to an existing server";
      case managed_errc::spawn_failed:
        return "cannot start redis-server (fork/exec failed)";
      case managed_errc::exited:
        return "redis-server exited while starting; see DATA_DIR/redis/redis.log";
      case managed_errc::start_timeout:
        return "redis-server did not answer in time; see DATA_DIR/redis/redis.log";
      case managed_errc::not_running:
        return "no managed Redis is running in this data directory";
    }
    return "managed Redis error";
  }
};

enum class probe { none, loading, ready };

// hiredis writes to the unix socket with write(): a server that exits between our connect and
// our command would kill the calling process with SIGPIPE. While one of these is alive, the
// calling thread has SIGPIPE blocked, and a SIGPIPE raised meanwhile is consumed, so callers
// need not ignore SIGPIPE process-wide (the tests and library users do not).
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~sigpipe_guard() {
    if (!was_pending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

// One PING on the socket, bounded by `timeout`.
probe ping(const std::string& socket, std::chrono::milliseconds timeout) {
  const sigpipe_guard no_sigpipe;
  const timeval tv{timeout.count() / 1000, suseconds_t(timeout.count() % 1000 * 1000)};
  redisContext* c = redisConnectUnixWithTimeout(socket.c_str(), tv);
  if (c == nullptr) return probe::none;
  probe result = probe::none;
  if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
    if (auto* r = static_cast<redisReply*>(redisCommand(c, "PING"))) {
      const std::string_view text(r->str != nullptr ? r->str : "", r->str != nullptr ? r->len : 0);
      if (r->type == REDIS_REPLY_STATUS && text == "PONG") result = probe::ready;
      // A server replaying a large AOF answers -LOADING until it is done.
      if (r->type == REDIS_REPLY_ERROR && text.starts_with("LOADING")) result = probe::loading;
      freeReplyObject(r);
    }
  }
  redisFree(c);
  return result;
}

std::string find_on_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// An exclusive lock on DATA_DIR/redis.lock while we decide whether to start a server, so
// two programs starting at once do not both start one.
/// Mode 0700 for `dir`, and no write for the group and nothing for others on everything under
/// it. False (logged) when the directory's mode cannot be set.
bool restrict_modes(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    spdlog::error("managed redis: cannot make {} private (0700): {}", dir.string(), ec.message());
    return false;
  }
  constexpr auto take = fs::perms::group_write | fs::perms::others_all;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code pec;
    const auto st = it->symlink_status(pec);
    if (pec || fs::is_symlink(st) || (st.permissions() & take) == fs::perms::none) continue;
    fs::permissions(it->path(), take, fs::perm_options::remove, pec);
    if (pec)
      spdlog::warn("managed redis: cannot restrict the mode of {}: {}", it->path().string(),
                   pec.message());
  }
  return true;
}

class dir_lock {
 public:
  explicit dir_lock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return;
    const auto deadline = clock_type::now() + 15s;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (clock_type::now() > deadline) {
        ::close(fd_);
        fd_ = -1;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  ~dir_lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Waits up to `limit` for the child to exit; true when it did.
bool wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = clock_type::now() + limit;
  for (;;) {
    const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

const boost::system::error_category& managed_category() noexcept {
  static const managed_category_impl cat;
  return cat;
}

boost::system::result<std::unique_ptr<managed_server>> managed_server::attach(
    const fs::path& data_dir_in) {
  std::error_code fs_ec;
  const fs::path data_dir = fs::absolute(data_dir_in, fs_ec);
  const std::string socket = (data_dir / "redis.sock").string();
  if (socket.size() >= sizeof(sockaddr_un{}.sun_path))
    return make_error_code(managed_errc::socket_path);
  if (fs_ec || ping(socket, 500ms) == probe::none) return make_error_code(managed_errc::not_running);
  return std::unique_ptr<managed_server>(new managed_server(socket, -1));
}

boost::system::result<std::unique_ptr<managed_server>> managed_server::ensure(
    const fs::path& data_dir_in) {
  std::error_code fs_ec;
  // Absolute: redis-server changes into its --dir before it creates the socket.
  const fs::path data_dir = fs::absolute(data_dir_in, fs_ec);
  const fs::path redis_dir = data_dir / "redis";
  const std::string socket = (data_dir / "redis.sock").string();
  if (socket.size() >= sizeof(sockaddr_un{}.sun_path))
    return make_error_code(managed_errc::socket_path);
  if (fs_ec || (fs::create_directories(redis_dir, fs_ec), fs_ec)) {
    spdlog::error("managed redis: cannot create {}: {}", redis_dir.string(), fs_ec.message());
    return make_error_code(managed_errc::data_dir);
  }
  // The append-only file holds numbers in clear: only the gateway's user may enter the
  // directory, and files made before this rule (0644) lose their group and other rights.
  if (!restrict_modes(redis_dir)) return make_error_code(managed_errc::data_dir);

  dir_lock lock(data_dir / "redis.lock");
  if (!lock.held()) {
    spdlog::error("managed redis: cannot lock {}", (data_dir / "redis.lock").string());
    return make_error_code(managed_errc::data_dir);
  }
  if (ping(socket, 500ms) != probe::none) {
    spdlog::info("managed redis: attached to the server already running on {}", socket);
    return std::unique_ptr<managed_server>(new managed_server(socket, -1));
  }

  const std::string exe = find_on_path("redis-server");
  if (exe.empty()) {
    spdlog::error("managed redis: redis-server not found on PATH");
    return make_error_code(managed_errc::not_installed);
  }
  const std::string log_file = (redis_dir / "redis.log").string();
  fs::remove(socket, fs_ec);  // a stale socket of a server that died
  std::vector<std::string> args = {exe,
                                   "--port",
                                   "0",
                                   "--unixsocket",
                                   socket,
                                   "--unixsocketperm",
                                   "700",
                                   "--dir",
                                   redis_dir.string(),
                                   "--appendonly",
                                   "yes",
                                   "--appendfsync",
                                   "everysec",
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   log_file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    if (devnull >= 0) ::close(devnull);
    return make_error_code(managed_errc::spawn_failed);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Redis creates its files 0644 and directories 0755: 0640 and 0750 instead, the modes of
    // the evidence log.
    ::umask(child_umask);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::close_range(3, ~0U, 0);  // listening sockets and files of the parent stay with it
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);

  auto deadline = clock_type::now() + 10s;
  bool extended = false;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      spdlog::error("managed redis: redis-server exited at start ({} {}); see {}",
                    WIFEXITED(status) ? "exit code" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log_file);
      return make_error_code(managed_errc::exited);
    }
    const probe p = ping(socket, 200ms);
    if (p == probe::ready) break;
    // Replaying a large append-only file may take a while; allow it, within reason.
    if (p == probe::loading && !extended) {
      deadline = clock_type::now() + 120s;
      extended = true;
    }
    if (clock_type::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      spdlog::error("managed redis: redis-server did not answer PING in time; see {}", log_file);
      return make_error_code(managed_errc::start_timeout);
    }
    std::this_thread::sleep_for(10ms);
  }
  spdlog::info("managed redis: started redis-server (pid {}) on {}, data in {}", pid, socket,
               redis_dir.string());
  return std::unique_ptr<managed_server>(new managed_server(socket, pid));
}

managed_server::~managed_server() {
  stop();
}

endpoint managed_server::ep() const {
  endpoint e;
  e.type = endpoint::kind::unix_socket;
  e.path = socket_.string();
  return e;
}

void managed_server::stop() {
  if (pid_ <= 0) return;
  const pid_t pid = std::exchange(pid_, -1);
  // SHUTDOWN lets Redis flush and fsync the append-only file before it exits.
  const timeval tv{2, 0};
  const sigpipe_guard no_sigpipe;
  if (redisContext* c = redisConnectUnixWithTimeout(socket_.c_str(), tv)) {
    if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
      if (auto* r = static_cast<redisReply*>(redisCommand(c, "SHUTDOWN"))) freeReplyObject(r);
    }
    redisFree(c);
  }
  if (wait_exit(pid, 10s)) {
    spdlog::info("managed redis: stopped (pid {})", pid);
    return;
  }
  spdlog::warn("managed redis: no exit after SHUTDOWN; sending SIGTERM (pid {})", pid);
  ::kill(pid, SIGCONT);  // a stopped process cannot act on SIGTERM
  ::kill(pid, SIGTERM);
  if (wait_exit(pid, 5s)) return;
  spdlog::error("managed redis: no exit after SIGTERM; killing (pid {})", pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace stopgate::redis
