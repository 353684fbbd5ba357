// stopgatectl: the operations CLI (SPEC section 7). Each command group lives in its own file
// and registers itself (command.hpp); exit codes: 0 success, 1 the operation failed, 2 bad usage.
#include "config/version.hpp"
#include "gateway/logging.hpp"
#include "tools/stopgatectl/command.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace stopgate::ctl {

namespace {
std::vector<command_info>& registry() {
  static std::vector<command_info> r;
  return r;
}
}  // namespace

command_registration::command_registration(command_info info) {
  registry().push_back(info);
}

const std::vector<command_info>& commands() {
  return registry();
}

}  // namespace stopgate::ctl

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: stopgatectl [--config FILE] [--redis URL] [--managed] COMMAND [ARGS...]\n"
               "\n"
               "Reads the same config as the gateway; with no --config it uses the embedded\n"
               "defaults (managed Redis under ./var). --redis overrides redis.url.\n"
               "With a managed Redis, commands attach to the gateway's (running on the same\n"
               "data directory) and refuse when none runs; --managed starts one instead.\n"
               "\n"
               "commands:\n");
  auto cmds = stopgate::ctl::commands();
  std::sort(cmds.begin(), cmds.end(),
            [](const auto& a, const auto& b) { return std::string(a.name) < b.name; });
  for (const auto& c : cmds) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\n'stopgatectl COMMAND --help' describes a command.\n"
               "exit codes: 0 success, 1 the operation failed, 2 bad usage\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Library logs (Redis connections, managed server) only when something is wrong;
  // STOPGATE_LOG=info shows them all. They go to stderr, results to stdout.
  stopgate::gateway::init_logging("warn");
  // hiredis writes with write(2): a Redis that goes away must not kill the CLI.
  std::signal(SIGPIPE, SIG_IGN);
  stopgate::ctl::global_options global;
  int i = 1;
  // Global options come before the command name.
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "stopgatectl: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h" || a == "help") {
      usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("stopgatectl %.*s\n", int(stopgate::version().size()),
                  stopgate::version().data());
      return 0;
    } else if (a == "--config") {
      global.config_file = value("--config");
    } else if (a.rfind("--config=", 0) == 0) {
      global.config_file = a.substr(9);
    } else if (a == "--managed") {
      global.start_managed = true;
    } else if (a == "--redis") {
      global.redis_url = value("--redis");
    } else if (a.rfind("--redis=", 0) == 0) {
      global.redis_url = a.substr(8);
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "stopgatectl: unknown option '%s' (see stopgatectl --help)\n",
                   a.c_str());
      return 2;
    } else {
      break;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  const std::string name = argv[i];
  for (const auto& c : stopgate::ctl::commands()) {
    if (name == c.name) {
      // Options after the command name that are global are accepted there too.
      std::vector<std::string> args;
      for (int k = i + 1; k < argc; ++k) {
        const std::string a = argv[k];
        if (a == "--managed") {
          global.start_managed = true;
        } else if ((a == "--config" || a == "--redis") && k + 1 < argc) {
          (a == "--config" ? global.config_file : global.redis_url) = argv[++k];
        } else if (a.rfind("--config=", 0) == 0) {
          global.config_file = a.substr(9);
        } else if (a.rfind("--redis=", 0) == 0) {
          global.redis_url = a.substr(8);
        } else {
          args.push_back(a);
        }
      }
      return c.run(global, args);
    }
  }
  std::fprintf(stderr, "stopgatectl: unknown command '%s' (see stopgatectl --help)\n",
               name.c_str());
  return 2;
}
