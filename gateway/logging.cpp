#include "gateway/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

namespace stopgate::gateway {

void init_logging(std::string_view level) {
  std::string lvl(level);
  if (const char* env = std::getenv("STOPGATE_LOG")) lvl = env;
  auto logger = spdlog::stderr_color_mt("stopgate");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(lvl));
}

}  // namespace stopgate::gateway
