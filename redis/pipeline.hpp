// A batch of commands formatted once into one RESP buffer, sent with client::async_exec.
#pragma once

#include "redis/routing.hpp"

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
  pipeline& add(std::initializer_list<std::string_view> args, key_index key = key_by_rule) {
    return add(std::span<const std::string_view>(args.begin(), args.size()), key);
  }
  /// Appends one command. `key` names the argument that routes it on a cluster (default:
  /// the rule of route_of(); no_key: none). An empty command, a pub/sub / MONITOR command
  /// or a key index past the last argument marks the pipeline invalid: async_exec then
  /// fails with errc::bad_command and sends nothing.
  pipeline& add(std::span<const std::string_view> args, key_index key = key_by_rule);
  std::size_t size() const noexcept { return entries_.size(); }
  bool valid() const noexcept { return valid_; }
  /// Forgets the commands; keeps capacity for reuse.
  void clear() noexcept;

  /// The RESP text of command i (for the client).
  std::string_view command(std::size_t i) const noexcept;
  /// The routing key index given for command i (key_by_rule unless add() named one).
  key_index key(std::size_t i) const noexcept { return entries_[i].key; }
  /// All commands back to back (NUL-terminated in memory).
  const std::string& buffer() const noexcept { return buf_; }

 private:
  struct entry {
    std::size_t end;  // end offset of the command in buf_
    key_index key;
  };
  std::string buf_;
  std::vector<entry> entries_;
  bool valid_ = true;
};

}  // namespace stopgate::redis
