#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::test {

namespace {

// The first port of the kernel's ephemeral range (32768 when it cannot be read).
int ephemeral_low() {
  int low = 32768, high = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  return low;
}

bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Takes the port's lock file for the rest of this process, if no other process holds it.
bool lock_port(int port) {
  static const std::string dir = [] {
    const std::string d = "/tmp/stopgate-test-ports";
    ::mkdir(d.c_str(), 01777);
    ::chmod(d.c_str(), 01777);
    return d;
  }();
  const std::string path = dir + "/" + std::to_string(port);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);  // flock needs no write access
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true;  // the descriptor stays open, and the lock held, until the process exits
}

}  // namespace

int free_port() {
  static std::mutex mutex;
  static std::set<int> given;
  static std::mt19937 random{std::random_device{}()};
  const std::lock_guard lock(mutex);
  const int low = 10000;
  static const int high = std::max(low + 1000, std::min(ephemeral_low(), 65536)) - 1;
  const int span = high - low + 1;
  const int start = std::uniform_int_distribution<int>(0, span - 1)(random);
  for (int i = 0; i < span; ++i) {
    const int port = low + (start + i) % span;
    if (given.contains(port) || !bindable(port) || !lock_port(port)) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("free_port: no free loopback port");
}

redis_server::redis_server(bool appendonly) : appendonly_(appendonly) {
  socket_ = (dir_.path() / "redis.sock").string();
  port_ = free_port();
  start();
}

redis_server::~redis_server() { stop(); }

std::string redis_server::tcp_url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
std::string redis_server::unix_url() const { return "unix://" + socket_; }

void redis_server::start() {
  if (pid_ > 0) return;
  const std::string port = std::to_string(port_);
  const std::string dir = dir_.path().string();
  std::vector<std::string> args = {"redis-server", "--bind", "127.0.0.1", "--port", port,
                                   "--unixsocket", socket_, "--unixsocketperm", "700",
                                   "--dir", dir, "--save", "", "--appendonly",
                                   appendonly_ ? "yes" : "no", "--daemonize", "no",
                                   "--logfile", dir + "/redis.log"};
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test process killed by a timeout must not leave its Redis behind.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  // Ready when it answers PING on the unix socket.
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start; see " + dir + "/redis.log");
    }
    if (cli("PING") == "PONG") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop();
  throw std::runtime_error("redis-server did not answer PING within 5 s");
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void redis_server::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}
void redis_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string redis_server::cli(const std::string& args) const {
  const std::string cmd = "redis-cli -s '" + socket_ + "' " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace stopgate::test
