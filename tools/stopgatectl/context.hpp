// What every stopgatectl command that talks to Redis needs: the settings (from --config or
// the embedded defaults), the Redis endpoint (--redis overrides redis.url) and, for
// `managed`, the private redis-server under the data directory (attached if the gateway is
// running, started otherwise).
#pragma once

#include "config/load.hpp"
#include "redis/client.hpp"
#include "redis/managed_server.hpp"
#include "tools/stopgatectl/command.hpp"

#include <boost/system/result.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::ctl {

/// Which `env:` secrets of the config a command uses, by key path (config::load_options::
/// needs_secret): a command resolves only those, so `dnc status` runs without the evidence
/// key in the environment. Null = every secret.
using secret_filter = std::function<bool(std::string_view key_path)>;
inline bool redis_secrets_only(std::string_view key_path) {
  return key_path.starts_with("redis.");
}
inline bool no_secrets(std::string_view) {
  return false;
}

/// A key written to a file (raw bytes; one trailing newline, and a CR before it, ignored);
/// nullopt when the file cannot be read.
std::optional<std::string> read_key_file(const std::string& path);

/// The settings of --config, or the embedded defaults; null (after printing every problem)
/// when the file is invalid.
config::settings_ptr load_settings(const global_options& g, secret_filter needs = {});

struct redis_context {
  config::settings_ptr settings;
  std::filesystem::path data_dir;
  redis::client_options options;
  std::unique_ptr<redis::managed_server> managed;  // set for redis.url = managed
  /// The Redis this command talks to, for summaries: "tcp://10.0.0.5:6379" or "the managed
  /// Redis at /srv/stopgate/var/redis.sock (the gateway's)".
  std::string where;
};

/// Resolves settings and the Redis endpoint. A managed server is only attached to (the
/// gateway's, running on the same data directory) unless --managed asks to start one: a
/// private Redis that no gateway reads would take a DNC load and report success. On failure
/// prints why on stderr and returns null (exit code 1).
std::unique_ptr<redis_context> open_redis(const global_options& g,
                                          std::chrono::milliseconds command_timeout);

}  // namespace stopgate::ctl
