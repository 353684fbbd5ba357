#include "tools/fake_carrier/protocol.hpp"

#include "tools/fake_carrier/dialect.hpp"

namespace stopgate::fake_carrier {

using config::carrier_type;

std::optional<carrier_type> route(std::string_view method, std::string_view path,
                                  const credentials& creds) {
  // Kannel's generic HTTP SMSC (smsc = http, system-type = generic) sends a GET.
  if (method == "GET" && path == creds.http.path) return carrier_type::http;
  if (method != "POST") return std::nullopt;
  if (path == creds.http.path) return carrier_type::http;
  if (dialect::middle_segment(path, "/2010-04-01/Accounts/", "/Messages.json"))
    return carrier_type::twilio;
  if (path == "/v2/messages") return carrier_type::telnyx;
  if (dialect::middle_segment(path, "/api/v2/users/", "/messages")) return carrier_type::bandwidth;
  if (path == "/sms/json") return carrier_type::vonage;
  if (dialect::middle_segment(path, "/v1/Account/", "/Message/")) return carrier_type::plivo;
  if (dialect::middle_segment(path, "/xms/v1/", "/batches")) return carrier_type::sinch;
  return std::nullopt;
}

reply answer(carrier_type c, const request_view& r, const std::optional<fault>& f,
             const answer_context& ctx) {
  return dialect::row_of(c).answer(r, f, ctx);
}

}  // namespace stopgate::fake_carrier
