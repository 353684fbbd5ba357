#include "redis/pipeline.hpp"

#include "redis/resp.hpp"

namespace stopgate::redis {

pipeline& pipeline::add(std::span<const std::string_view> args, key_index key) {
  // hiredis cannot route replies of mode-changing or empty commands one per command.
  if (args.empty() || is_mode_command(args[0]) ||
      (key != key_by_rule && key != no_key && key >= args.size())) {
    valid_ = false;
    return *this;
  }
  append_command(buf_, args);
  entries_.push_back({buf_.size(), key});
  return *this;
}

void pipeline::clear() noexcept {
  buf_.clear();
  entries_.clear();
  valid_ = true;
}

std::string_view pipeline::command(std::size_t i) const noexcept {
  const std::size_t begin = i == 0 ? 0 : entries_[i - 1].end;
  return std::string_view(buf_).substr(begin, entries_[i].end - begin);
}

}  // namespace stopgate::redis
