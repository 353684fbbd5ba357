// stopgatectl: the operations CLI (SPEC section 7). Each command group lives in its own file
// and registers here; exit codes: 0 success, 1 the operation failed, 2 bad usage.
#include "config/version.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: stopgatectl [--config FILE] [--redis URL] COMMAND ...\n"
               "\n"
               "commands:\n"
               "  --version            print the version\n"
               "  --help               this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("stopgatectl %.*s\n", int(stopgate::version().size()), stopgate::version().data());
    return 0;
  }
  std::fprintf(stderr, "stopgatectl: unknown command '%s' (see stopgatectl --help)\n", argv[1]);
  return 2;
}
