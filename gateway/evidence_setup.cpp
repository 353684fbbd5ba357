#include "gateway/evidence_setup.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace stopgate::gateway {
namespace {

// Reads the key file, or creates it (0600: 32 random bytes as 64 hex digits and a newline,
// so that it survives editors and `stopgatectl evidence verify --key-file`) when missing.
boost::system::result<std::string> key_from_file(const std::filesystem::path& p, std::string* why) {
  std::error_code fsec;
  std::filesystem::create_directories(p.parent_path(), fsec);
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    std::array<unsigned char, 32> key;
    if (RAND_bytes(key.data(), int(key.size())) != 1) {
      *why = "cannot generate a random evidence key";
      return boost::system::error_code(EIO, boost::system::generic_category());
    }
    fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      static constexpr char hexd[] = "0123456789abcdef";
      std::string text;
      for (unsigned char c : key) {
        text += hexd[c >> 4];
        text += hexd[c & 15];
      }
      const std::string line = text + "\n";
      const bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) {
        *why = "cannot write the evidence key file " + p.string();
        return boost::system::error_code(EIO, boost::system::generic_category());
      }
      return text;
    }
    if (errno != EEXIST) {
      *why = "cannot create the evidence key file " + p.string() + ": " + std::strerror(errno);
      return boost::system::error_code(errno, boost::system::generic_category());
    }
    fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);  // created by someone else meanwhile
  }
  if (fd < 0) {
    *why = "cannot read the evidence key file " + p.string() + ": " + std::strerror(errno);
    return boost::system::error_code(errno, boost::system::generic_category());
  }
  std::string key(4096, '\0');
  const ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n < 16) {
    *why = "the evidence key file " + p.string() + " holds fewer than 16 bytes";
    return boost::system::error_code(EINVAL, boost::system::generic_category());
  }
  key.resize(std::size_t(n));
  // One trailing newline is not part of the key (as stopgatectl evidence --key-file reads it).
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (!key.empty() && key.back() == '\r') key.pop_back();
  return key;
}

}  // namespace

boost::system::result<evidence::options> evidence_options(const config::settings& s, std::string* why) {
  evidence::options o;
  o.dir = s.evidence.dir;
  o.instance = s.server.instance;
  if (!s.evidence.hmac_key_file.empty()) {
    auto k = key_from_file(s.evidence.hmac_key_file, why);
    if (!k) return k.error();
    o.hmac_key = std::move(*k);
  } else {
    o.hmac_key = s.evidence.hmac_key.reveal();
  }
  o.checkpoint_every = s.evidence.checkpoint_every;
  o.checkpoint_interval = std::chrono::seconds(s.evidence.checkpoint_interval_s);
  o.segment_max_bytes = s.evidence.segment_max_bytes;
  o.retention_days = s.evidence.retention_days;
  o.encryption_key = s.evidence.encryption_key.reveal();
  o.max_batch = s.evidence.group_commit_max_records;
  if (auto ec = o.check(why)) return ec;
  return o;
}

}  // namespace stopgate::gateway
