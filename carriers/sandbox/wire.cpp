#include "carriers/sandbox/wire.hpp"

#include "carriers/generic/wire.hpp"
#include "carriers/wire/encode.hpp"

#include <boost/json/object.hpp>

#include <date/date.h>

namespace stopgate::carriers::sandbox {

using boost::system::result;

std::string carrier_message_id(const outbound_message& msg) { return "sandbox-" + msg.message_id; }

std::string outbox_line(const outbound_message& msg, std::chrono::system_clock::time_point now) {
  boost::json::object o;
  o["ts"] = date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(now));
  o["carrier_message_id"] = carrier_message_id(msg);
  o["message_id"] = msg.message_id;
  o["to"] = msg.to;
  o["from"] = msg.from;
  o["body"] = msg.body;
  if (!msg.status_callback_url.empty()) o["status_callback_url"] = msg.status_callback_url;
  std::string line = wire::json_text(o);
  line.push_back('\n');
  return line;
}

send_outcome accepted_outcome(const outbound_message& msg) {
  send_outcome out;
  out.accepted = true;
  out.carrier_message_id = carrier_message_id(msg);
  out.carrier_status = "queued";
  return out;
}

result<inbound_message> parse_inbound(std::string_view content_type, std::string_view body,
                                      std::string_view) {
  return generic::parse_inbound_as("sandbox", content_type, body);
}

result<status_update> parse_status(std::string_view content_type, std::string_view body,
                                   std::string_view) {
  return generic::parse_status_as("sandbox", content_type, body);
}

}  // namespace stopgate::carriers::sandbox
