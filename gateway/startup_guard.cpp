#include "gateway/startup_guard.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace stopgate::gateway {

namespace asio = boost::asio;
namespace fs = std::filesystem;

std::optional<instance_lock> instance_lock::acquire(const fs::path& data_dir, std::string& why) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  const fs::path file = data_dir / "stopgate.pid";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    why = "cannot open " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, std::size_t(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK)
      why = "another stopgate" + (pid.empty() ? std::string() : " (pid " + pid + ")") +
            " is running on data directory " + data_dir.string() + " (" + file.string() +
            " is locked); stop it first, or give this one its own server.data_dir";
    else
      why = "cannot lock " + file.string() + ": " + std::strerror(err);
    return std::nullopt;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    why = "cannot write " + file.string() + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  return instance_lock(fd);
}

instance_lock::~instance_lock() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// Binds a throwaway socket without SO_REUSEPORT: the bind fails when any other socket holds
// the address, including one of another gateway that set SO_REUSEPORT. SO_REUSEADDR keeps a
// previous run's TIME_WAIT connections from counting (Linux still refuses it next to a
// listener).
template <class Protocol>
std::string probe(asio::io_context& io, const config::listen_address& a) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(a.host, ec);
  if (ec) return {};  // a host name: the listener resolves it and reports its own errors
  typename Protocol::socket s(io);
  const typename Protocol::endpoint ep(address, a.port);
  s.open(ep.protocol(), ec);
  if (ec) return {};
  s.set_option(asio::socket_base::reuse_address(true), ec);
  s.bind(ep, ec);
  return ec == asio::error::address_in_use ? ec.message() : std::string();
}

}  // namespace

std::vector<std::string> listen_addresses_in_use(const config::settings& s) {
  asio::io_context io;
  std::vector<std::string> out;
  auto check = [&](const char* key, const std::optional<config::listen_address>& a, bool tcp,
                   bool udp) {
    if (!a || a->port == 0) return;
    if (tcp)
      if (auto why = probe<asio::ip::tcp>(io, *a); !why.empty())
        out.push_back(std::string(key) + " " + a->to_string() + " (tcp): " + why);
    if (udp)
      if (auto why = probe<asio::ip::udp>(io, *a); !why.empty())
        out.push_back(std::string(key) + " " + a->to_string() + " (udp): " + why);
  };
  check("api.listen", s.api.listen, true, false);
  check("api.tls_listen", s.api.tls_listen, true, false);
  check("http.listen", s.http.listen, true, false);
  check("dialer.fastagi.listen", s.dialer.fastagi.listen, true, false);
  check("dialer.sip.listen", s.dialer.sip.listen, s.dialer.sip.tcp, s.dialer.sip.udp);
  return out;
}

}  // namespace stopgate::gateway
