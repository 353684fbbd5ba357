// stopgate: the gateway daemon (SPEC section 1).
//
//   stopgate [--config FILE]        run (embedded defaults without --config)
//   stopgate --check-config FILE    validate and exit: 0 valid, 1 with one line per problem
#include "config/load.hpp"
#include "config/version.hpp"
#include "gateway/app.hpp"
#include "gateway/logging.hpp"
#include "gateway/startup_guard.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: stopgate [--config FILE]\n"
               "       stopgate --check-config FILE\n"
               "       stopgate --version | --help\n"
               "\n"
               "Runs the opt-out gateway. Without --config it runs on embedded defaults: a managed\n"
               "redis-server under ./var, the sandbox carrier (./var/outbox.jsonl), the socket API on\n"
               "127.0.0.1:7600 and HTTP on 127.0.0.1:7601, evidence in ./var/evidence.\n"
               "Signals: SIGHUP reloads the configuration (an invalid file is refused and the old\n"
               "one stays); SIGTERM/SIGINT stop gracefully.\n"
               "See config/stopgate.example.toml for every setting.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file, check_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "stopgate: %s needs a file\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("stopgate %.*s\n", int(stopgate::version().size()), stopgate::version().data());
      return 0;
    } else if (a == "--config") {
      config_file = value("--config");
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else if (a == "--check-config") {
      check_file = value("--check-config");
    } else if (a.rfind("--check-config=", 0) == 0) {
      check_file = a.substr(15);
    } else {
      std::fprintf(stderr, "stopgate: unknown argument '%s'\n\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (!check_file.empty()) {
    auto s = stopgate::config::load_file(check_file);
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
      return 1;
    }
    std::printf("%s: valid\n", check_file.c_str());
    return 0;
  }
  stopgate::config::settings_ptr settings;
  if (config_file.empty()) {
    settings = stopgate::config::embedded_defaults();
  } else {
    auto s = stopgate::config::load_file(config_file);
    if (!s) {
      std::fprintf(stderr, "stopgate: %s is not a valid configuration:\n%s\n", config_file.c_str(),
                   s.error().to_string().c_str());
      return 1;
    }
    settings = *s;
  }
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  const auto lvl = static_cast<unsigned>(settings->server.level);
  stopgate::gateway::init_logging(lvl < 7 ? levels[lvl] : "info");
  for (const auto& w : stopgate::config::secret_exposure_warnings(*settings))
    spdlog::warn("config: {}", w);
  // One gateway per data directory, and no listener on another process's address: fail now,
  // naming the cause, instead of starting beside it.
  std::string why;
  auto lock = stopgate::gateway::instance_lock::acquire(settings->server.data_dir, why);
  if (!lock) {
    spdlog::error("cannot start: {}", why);
    return 1;
  }
  if (auto busy = stopgate::gateway::listen_addresses_in_use(*settings); !busy.empty()) {
    for (const auto& b : busy) spdlog::error("cannot start: {} (another process holds it)", b);
    return 1;
  }
  stopgate::gateway::app app(settings, config_file);
  return app.run();
}
