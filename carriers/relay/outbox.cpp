#include "carriers/relay/outbox.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace stopgate::carriers::relay {

namespace {
boost::system::error_code last_error() {
  return {errno, boost::system::system_category()};
}
}  // namespace

outbox::outbox(std::filesystem::path path) : path_(std::move(path)) {}

outbox::~outbox() {
  if (fd_ >= 0) ::close(fd_);
}

boost::system::error_code outbox::append(std::string_view line) {
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    std::error_code ec;
    if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) return last_error();
  }
  while (!line.empty()) {
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    line.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace stopgate::carriers::relay
