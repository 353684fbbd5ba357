// The credentials the fake carrier expects from stopgate, one set per carrier API, and the
// carrier settings that present them. Defaults are fixed, obviously fake values, so a fake
// started without a config file and a test that calls settings_for() agree.
#pragma once

#include "config/settings.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::fake_carrier {

struct credentials {
  struct twilio_creds {
    std::string account_sid = "AC00000000000000000000000000fa4e";
    std::string auth_token = "fake-twilio-auth-token";
  } twilio;
  struct telnyx_creds {
    std::string api_key = "KEYfake-telnyx-api-key";
  } telnyx;
  /// Basic username:password is always accepted; Bearer only when `token` is set.
  struct bandwidth_creds {
    std::string account_id = "9900001";
    std::string application_id = "fake-bandwidth-application";
    std::string username = "fake-bandwidth-user";
    std::string password = "fake-bandwidth-password";
    std::string token;
  } bandwidth;
  struct vonage_creds {
    std::string api_key = "fakekey1";
    std::string api_secret = "fake-vonage-secret";
  } vonage;
  struct plivo_creds {
    std::string auth_id = "MAFAKE00000000000001";
    std::string auth_token = "fake-plivo-auth-token";
  } plivo;
  struct sinch_creds {
    std::string service_plan_id = "fakeplan0001";
    std::string api_token = "fake-sinch-api-token";
  } sinch;
  /// The generic `http` carrier: POSTs to `path` carrying every one of `headers` exactly.
  struct http_creds {
    std::string path = "/send";
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", "Bearer fake-http-token"}};
  } http;
};

/// Reads a JSON config file's text: an object with any of the keys "twilio", "telnyx",
/// "bandwidth", "vonage", "plivo", "sinch", "http", each an object of string fields named
/// as in `credentials` ("http" has "path" and "headers": {"Name": "value"}). Absent fields
/// keep their defaults; unknown keys and non-string values are errors (`detail` says which).
/// Thread-safe (pure).
boost::system::result<credentials> parse_credentials(std::string_view json_text,
                                                     std::string& detail);

/// Carrier settings named after the type that authenticate against `c` at the fake reached
/// at `base_url` ("http://127.0.0.1:PORT"); for `http` the url is base_url + path. Timeouts
/// and retries keep their config defaults. Precondition: type != sandbox.
config::carrier_settings settings_for(config::carrier_type type, const credentials& c,
                                      std::string_view base_url);

/// The carrier types the fake speaks (every type but sandbox), in config order.
inline constexpr config::carrier_type spoken_carriers[] = {
    config::carrier_type::twilio, config::carrier_type::telnyx, config::carrier_type::bandwidth,
    config::carrier_type::vonage, config::carrier_type::plivo,  config::carrier_type::sinch,
    config::carrier_type::http};

/// "twilio" -> carrier_type::twilio (every spoken carrier); nullopt otherwise.
std::optional<config::carrier_type> carrier_from_name(std::string_view name) noexcept;

}  // namespace stopgate::fake_carrier
