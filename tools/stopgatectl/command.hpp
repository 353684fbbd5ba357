// stopgatectl command registry: each command group (dnc, evidence, keys, check, ...) lives in
// its own .cpp and registers itself with a static `command_registration`; main() dispatches.
#pragma once

#include <string>
#include <vector>

namespace stopgate::ctl {

/// Options every command shares, taken before the command name.
struct global_options {
  std::string config_file;     // --config FILE ("" = embedded defaults)
  std::string redis_url;       // --redis URL overrides redis.url
  bool start_managed = false;  // --managed: may start the managed Redis (default: attach only)
};

/// A command's entry point: args are what follows the command name. Returns the exit code:
/// 0 success, 1 the operation failed (message on stderr says why), 2 bad usage.
using command_fn = int (*)(const global_options&, const std::vector<std::string>& args);

struct command_info {
  const char* name;     // "dnc"
  const char* summary;  // one line for `stopgatectl --help`
  command_fn run;
};

/// Registers a command at static-initialisation time.
struct command_registration {
  explicit command_registration(command_info info);
};

const std::vector<command_info>& commands();

}  // namespace stopgate::ctl
