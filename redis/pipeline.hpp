// A batch of commands formatted once into one RESP buffer, sent with client::async_exec.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::redis {

/// A batch of commands, formatted once (RESP) and written in one go. Reusable: clear() keeps
/// the buffers. Not thread-safe (a value owned by one user).
class pipeline {
 public:
  pipeline& add(std::initializer_list<std::string_view> args) {
    return add(std::span<const std::string_view>(args.begin(), args.size()));
  }
  /// Appends one command. An empty command or a pub/sub / MONITOR command marks the pipeline
  /// invalid: async_exec then fails with errc::bad_command and sends nothing.
  pipeline& add(std::span<const std::string_view> args);
  std::size_t size() const noexcept { return ends_.size(); }
  bool valid() const noexcept { return valid_; }
  /// Forgets the commands; keeps capacity for reuse.
  void clear() noexcept;

  /// The RESP text of command i (for the client).
  std::string_view command(std::size_t i) const noexcept;
  /// All commands back to back (NUL-terminated in memory).
  const std::string& buffer() const noexcept { return buf_; }

 private:
  std::string buf_;
  std::vector<std::size_t> ends_;  // end offset of each command in buf_
  bool valid_ = true;
};

}  // namespace stopgate::redis
