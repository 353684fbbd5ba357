#include "config/version.hpp"

namespace stopgate {
std::string_view version() noexcept { return STOPGATE_VERSION; }
}  // namespace stopgate
