#include "carriers/wire/adapter.hpp"

#include "carriers/dialect.hpp"

namespace stopgate::carriers {

using config::carrier_type;

std::optional<http_call> build_send(const config::carrier_settings& s, const outbound_message& msg) {
  return dialect_of(s.type).build_send(s, msg);
}

send_outcome parse_send_response(carrier_type type, int status, const header_list& headers,
                                 std::string_view body, std::chrono::system_clock::time_point now) {
  return dialect_of(type).parse_send_response(status, headers, body, now);
}

boost::system::result<std::vector<inbound_message>> parse_inbound(carrier_type type,
                                                                  std::string_view content_type,
                                                                  std::string_view body,
                                                                  std::string_view query) {
  return dialect_of(type).parse_inbound(content_type, body, query);
}

boost::system::result<std::vector<status_update>> parse_status(carrier_type type,
                                                               std::string_view content_type,
                                                               std::string_view body,
                                                               std::string_view query) {
  return dialect_of(type).parse_status(content_type, body, query);
}

}  // namespace stopgate::carriers
