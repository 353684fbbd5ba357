#include "gateway/dialer/servers.hpp"

namespace stopgate::gateway::dialer {

servers::servers(std::vector<boost::asio::io_context*> contexts,
                 std::shared_ptr<const config::settings> settings,
                 std::shared_ptr<voice_checker> checker)
    : fastagi_(contexts, settings, checker), sip_(contexts, settings, checker) {}

boost::system::error_code servers::start(std::string& why) {
  if (auto ec = fastagi_.start(); ec) {
    why = "dialer.fastagi.listen: " + ec.message();
    return ec;
  }
  if (auto ec = sip_.start(); ec) {
    why = "dialer.sip.listen: " + ec.message();
    return ec;
  }
  return {};
}

boost::asio::awaitable<void> servers::async_stop(std::chrono::milliseconds grace) {
  co_await sip_.async_stop(grace);
  co_await fastagi_.async_stop(grace);
}

void servers::update_settings(std::shared_ptr<const config::settings> settings) {
  fastagi_.update_settings(settings);
  sip_.update_settings(std::move(settings));
}

}  // namespace stopgate::gateway::dialer
