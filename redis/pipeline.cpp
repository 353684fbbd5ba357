#include "redis/pipeline.hpp"

#include "redis/resp.hpp"

namespace stopgate::redis {

pipeline& pipeline::add(std::span<const std::string_view> args) {
  // hiredis cannot route replies of mode-changing or empty commands one per command.
  if (args.empty() || is_mode_command(args[0])) {
    valid_ = false;
    return *this;
  }
  append_command(buf_, args);
  ends_.push_back(buf_.size());
  return *this;
}

void pipeline::clear() noexcept {
  buf_.clear();
  ends_.clear();
  valid_ = true;
}

std::string_view pipeline::command(std::size_t i) const noexcept {
  const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(buf_).substr(begin, ends_[i] - begin);
}

}  // namespace stopgate::redis
