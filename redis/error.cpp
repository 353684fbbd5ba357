#include "redis/error.hpp"

#include <string>

namespace stopgate::redis {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.redis"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_connected:
        return "not connected to Redis";
      case errc::timeout:
        return "Redis command timed out";
      case errc::connection_lost:
        return "Redis connection lost";
      case errc::protocol:
        return "Redis protocol error";
      case errc::stopped:
        return "Redis client stopped";
      case errc::bad_command:
        return "command cannot be sent on this connection";
      case errc::overloaded:
        return "too many Redis commands waiting for replies";
    }
    return "unknown Redis error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const category_impl cat;
  return cat;
}

}  // namespace stopgate::redis
