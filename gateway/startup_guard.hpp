// What must hold before a gateway starts: it is the only one on its data directory, and no
// other process holds the addresses it listens on. Both are checked in main(), before any
// part starts, so that a second gateway fails at once with a message that names the cause
// instead of running beside the first (SO_REUSEPORT lets both bind) and failing every
// evidence write later.
#pragma once

#include "config/settings.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::gateway {

/// An exclusive flock on DATA_DIR/stopgate.pid, held until the object goes away (the kernel
/// drops it when the process dies, SIGKILL included). The file holds the holder's pid.
class instance_lock {
 public:
  /// Takes the lock (creating the data directory if needed). On failure `why` says whether
  /// another gateway holds it (with its pid) or the file could not be opened.
  static std::optional<instance_lock> acquire(const std::filesystem::path& data_dir,
                                              std::string& why);
  instance_lock(instance_lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  instance_lock& operator=(instance_lock&&) = delete;
  instance_lock(const instance_lock&) = delete;
  ~instance_lock();

 private:
  explicit instance_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Each configured listen address (TCP, and UDP for the SIP gate) that another socket already
/// holds, as "api.listen 127.0.0.1:7600 (tcp): Address already in use". Port 0 (any free
/// port) is never in use.
std::vector<std::string> listen_addresses_in_use(const config::settings& s);

}  // namespace stopgate::gateway
