// The dialer servers as one part of the daemon: the FastAGI server and the SIP gate, each
// off unless its `listen` is configured, started, reconfigured and stopped together.
#pragma once

#include "config/settings.hpp"
#include "gateway/dialer/fastagi/server.hpp"
#include "gateway/dialer/sip/server.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace stopgate::gateway::dialer {

class servers {
 public:
  servers(std::vector<boost::asio::io_context*> contexts,
          std::shared_ptr<const config::settings> settings, std::shared_ptr<voice_checker> checker);

  /// Opens the configured listeners. On failure `why` names the server and nothing is left
  /// listening.
  boost::system::error_code start(std::string& why);
  boost::asio::awaitable<void> async_stop(std::chrono::milliseconds grace);
  void update_settings(std::shared_ptr<const config::settings> settings);

  fastagi::server& fastagi() noexcept { return fastagi_; }
  sip::server& sip() noexcept { return sip_; }

 private:
  fastagi::server fastagi_;
  sip::server sip_;
};

}  // namespace stopgate::gateway::dialer
