#include "carriers/wire/adapter.hpp"

#include "carriers/bandwidth/wire.hpp"
#include "carriers/generic/wire.hpp"
#include "carriers/plivo/wire.hpp"
#include "carriers/sandbox/wire.hpp"
#include "carriers/sinch/wire.hpp"
#include "carriers/telnyx/wire.hpp"
#include "carriers/twilio/wire.hpp"
#include "carriers/vonage/wire.hpp"

namespace stopgate::carriers {

using config::carrier_type;

std::optional<http_call> build_send(const config::carrier_settings& s,
                                    const outbound_message& msg) {
  switch (s.type) {
    case carrier_type::twilio: return twilio::build_send(s, msg);
    case carrier_type::telnyx: return telnyx::build_send(s, msg);
    case carrier_type::bandwidth: return bandwidth::build_send(s, msg);
    case carrier_type::vonage: return vonage::build_send(s, msg);
    case carrier_type::plivo: return plivo::build_send(s, msg);
    case carrier_type::sinch: return sinch::build_send(s, msg);
    case carrier_type::http: return generic::build_send(s, msg);
    case carrier_type::sandbox: return std::nullopt;
  }
  return std::nullopt;
}

send_outcome parse_send_response(carrier_type type, int status, const header_list& headers,
                                 std::string_view body,
                                 std::chrono::system_clock::time_point now) {
  switch (type) {
    case carrier_type::twilio: return twilio::parse_send_response(status, headers, body, now);
    case carrier_type::telnyx: return telnyx::parse_send_response(status, headers, body, now);
    case carrier_type::bandwidth:
      return bandwidth::parse_send_response(status, headers, body, now);
    case carrier_type::vonage: return vonage::parse_send_response(status, headers, body, now);
    case carrier_type::plivo: return plivo::parse_send_response(status, headers, body, now);
    case carrier_type::sinch: return sinch::parse_send_response(status, headers, body, now);
    case carrier_type::http:
    case carrier_type::sandbox: return generic::parse_send_response(status, headers, body, now);
  }
  return generic::parse_send_response(status, headers, body, now);
}

namespace {

// One message or update as a batch of one.
template <class T>
boost::system::result<std::vector<T>> one(boost::system::result<T> r) {
  if (!r) return r.error();
  std::vector<T> out;
  out.push_back(std::move(*r));
  return out;
}

}  // namespace

boost::system::result<std::vector<inbound_message>> parse_inbound(carrier_type type,
                                                                  std::string_view content_type,
                                                                  std::string_view body,
                                                                  std::string_view query) {
  switch (type) {
    case carrier_type::twilio:
      return one(twilio::parse_inbound(content_type, body, query));
    case carrier_type::telnyx:
      return one(telnyx::parse_inbound(content_type, body, query));
    case carrier_type::bandwidth:
      return bandwidth::parse_inbound_events(content_type, body);
    case carrier_type::vonage:
      return one(vonage::parse_inbound(content_type, body, query));
    case carrier_type::plivo:
      return one(plivo::parse_inbound(content_type, body, query));
    case carrier_type::sinch:
      return one(sinch::parse_inbound(content_type, body, query));
    case carrier_type::http:
      return one(generic::parse_inbound(content_type, body, query));
    case carrier_type::sandbox:
      return one(sandbox::parse_inbound(content_type, body, query));
  }
  return make_error_code(wire_errc::ignored_event);
}

boost::system::result<std::vector<status_update>> parse_status(carrier_type type,
                                                               std::string_view content_type,
                                                               std::string_view body,
                                                               std::string_view query) {
  switch (type) {
    case carrier_type::twilio:
      return one(twilio::parse_status(content_type, body, query));
    case carrier_type::telnyx:
      return one(telnyx::parse_status(content_type, body, query));
    case carrier_type::bandwidth:
      return bandwidth::parse_status_events(content_type, body);
    case carrier_type::vonage:
      return one(vonage::parse_status(content_type, body, query));
    case carrier_type::plivo:
      return one(plivo::parse_status(content_type, body, query));
    case carrier_type::sinch:
      return sinch::parse_status_updates(content_type, body);
    case carrier_type::http:
      return one(generic::parse_status(content_type, body, query));
    case carrier_type::sandbox:
      return one(sandbox::parse_status(content_type, body, query));
  }
  return make_error_code(wire_errc::ignored_event);
}

}  // namespace stopgate::carriers
