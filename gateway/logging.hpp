// Process-wide logging set-up (spdlog). Numbers are masked by callers (phone_number::masked);
// message bodies never reach the log.
#pragma once
#include <string_view>

namespace stopgate::gateway {

/// Sets the default logger's level ("trace".."off"; STOPGATE_LOG overrides) and pattern.
/// Call once at program start, before other threads exist.
void init_logging(std::string_view level = "info");

}  // namespace stopgate::gateway
