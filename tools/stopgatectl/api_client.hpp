// A small blocking client of the gateway's socket API for stopgatectl: connects to the
// configured unix socket or TCP listener, authenticates when a key is given, and sends one
// request at a time.
#pragma once

#include "config/settings.hpp"

#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>

namespace stopgate::ctl {

class api_client {
 public:
  /// Connects to api.unix_socket if set, else api.listen. `key` ("" = none; the
  /// STOPGATE_API_KEY environment variable is used when empty) is sent with `auth` first.
  /// Returns null and fills *why when the gateway cannot be reached or refuses the key.
  static std::unique_ptr<api_client> connect(const config::settings& s, std::string key, std::string* why);
  ~api_client();

  /// Sends one request (an "id" is added) and returns the response object, or nullopt with
  /// *why on a transport failure.
  std::optional<boost::json::object> call(boost::json::object req, std::string* why);

 private:
  struct impl;
  explicit api_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace stopgate::ctl
