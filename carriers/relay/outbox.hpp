// The sandbox carrier's outbox: a file opened with O_APPEND, one JSON line per message
// (carriers/sandbox/wire.hpp outbox_line). Thread-safe: every worker's relay appends to the
// same file through one shared outbox, and each line goes out in a single write(2) under a
// mutex, so lines never interleave.
#pragma once

#include <boost/system/error_code.hpp>

#include <filesystem>
#include <mutex>
#include <string_view>

namespace stopgate::carriers::relay {

class outbox {
 public:
  explicit outbox(std::filesystem::path path);
  ~outbox();
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  /// Appends `line` (already '\n'-terminated). Opens the file (and creates its directory)
  /// on first use. Blocks the calling thread for one write(2), no fsync: a line survives a
  /// crash of the process, not of the machine. Returns the errno of a failed open or write.
  boost::system::error_code append(std::string_view line);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::mutex mu_;
  int fd_ = -1;
};

}  // namespace stopgate::carriers::relay
