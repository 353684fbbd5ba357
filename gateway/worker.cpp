#include "gateway/worker.hpp"

#include <spdlog/spdlog.h>

namespace stopgate::gateway {
namespace {
thread_local worker* tls_worker = nullptr;
}

worker* worker::current() noexcept { return tls_worker; }

void worker::run() {
  tls_worker = this;
  for (;;) {
    try {
      io.run();
      break;
    } catch (const std::exception& e) {
      // Handlers catch their own errors; anything reaching here is a bug: log and go on.
      spdlog::error("worker {}: unexpected exception: {}", index, e.what());
    }
  }
  tls_worker = nullptr;
}

}  // namespace stopgate::gateway
