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
#include <memory>
#include <string>

namespace stopgate::ctl {

/// The settings of --config, or the embedded defaults; null (after printing every problem)
/// when the file is invalid.
config::settings_ptr load_settings(const global_options& g);

struct redis_context {
  config::settings_ptr settings;
  std::filesystem::path data_dir;
  redis::client_options options;
  std::unique_ptr<redis::managed_server> managed;  // set for redis.url = managed
};

/// Resolves settings and the Redis endpoint; starts or attaches to a managed server. On
/// failure prints why on stderr and returns null (exit code 1).
std::unique_ptr<redis_context> open_redis(const global_options& g,
                                          std::chrono::milliseconds command_timeout);

}  // namespace stopgate::ctl
