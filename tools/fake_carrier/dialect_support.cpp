#include "tools/fake_carrier/dialect.hpp"
#include "tools/fake_carrier/error.hpp"

#include "carriers/wire/encode.hpp"

#include "carriers/signature/crypto.hpp"
#include "carriers/wire/response.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/pct_string_view.hpp>

#include <date/date.h>

namespace stopgate::fake_carrier::dialect {

std::optional<std::pair<std::string, std::string>> basic_credentials(
    const carriers::header_list& headers) {
  auto h = carriers::wire::find_header(headers, "Authorization");
  if (!h || !h->starts_with("Basic ")) return std::nullopt;
  auto decoded = carriers::signature::base64_decode(h->substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool bearer_is(const carriers::header_list& headers, std::string_view token) {
  auto h = carriers::wire::find_header(headers, "Authorization");
  return !token.empty() && h && h->starts_with("Bearer ") && h->substr(7) == token;
}

std::string media_type(const carriers::header_list& headers) {
  auto h = carriers::wire::find_header(headers, "Content-Type");
  if (!h) return {};
  std::string_view v = h->substr(0, h->find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  std::string out(v);
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
  return out;
}

std::optional<std::string> middle_segment(std::string_view path, std::string_view prefix,
                                          std::string_view suffix) {
  if (path.size() <= prefix.size() + suffix.size() || !path.starts_with(prefix) ||
      !path.ends_with(suffix))
    return std::nullopt;
  std::string_view seg = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (seg.find('/') != std::string_view::npos) return std::nullopt;
  auto pct = boost::urls::make_pct_string_view(seg);
  if (!pct) return std::nullopt;
  return pct->decode();
}

bool plausible_msisdn(std::string_view s) noexcept {
  if (s.size() < 8 || s.size() > 15 || s.front() == '0') return false;
  for (char ch : s)
    if (ch < '0' || ch > '9') return false;
  return true;
}

bool plausible_e164(std::string_view s) noexcept {
  return s.starts_with('+') && plausible_msisdn(s.substr(1));
}

reply json_reply(int status, const boost::json::value& body, outcome result) {
  reply r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.result = result;
  return r;
}

int status_of(const fault& f, int usual) noexcept {
  return f.status != 0 ? f.status : usual;
}

void add_retry_after(reply& r, const fault& f) {
  if (!f.retry_after.empty()) r.headers.emplace_back("Retry-After", f.retry_after);
}

std::string hex(std::uint64_t v, std::size_t width) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0; v >>= 4) out[i] = digits[v & 0xF];
  return out;
}

std::string uuid(id_source& ids) {
  // Instance bits and a counter laid out as 8-4-4-4-12 with the version nibble set to 4.
  const std::uint64_t a = ids.instance(), b = ids.next();
  std::string h = hex(a, 16) + hex(b, 16);
  h[12] = '4';
  h[16] = "89ab"[b & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
  return date::format("%FT%TZ", date::floor<std::chrono::milliseconds>(t));
}

const carrier_row& row_of(config::carrier_type t) noexcept {
  switch (t) {
    case config::carrier_type::twilio:
      return twilio_row;
    case config::carrier_type::telnyx:
      return telnyx_row;
    case config::carrier_type::bandwidth:
      return bandwidth_row;
    case config::carrier_type::vonage:
      return vonage_row;
    case config::carrier_type::plivo:
      return plivo_row;
    case config::carrier_type::sinch:
      return sinch_row;
    case config::carrier_type::http:
      return http_row;
    case config::carrier_type::sandbox:
      break;
  }
  return sandbox_row;
}

std::string form(const params& p) {
  std::string out;
  for (auto& [k, v] : p) carriers::wire::append_form_field(out, k, v);
  return out;
}

std::string digits(std::string_view number) {
  return std::string(carriers::wire::without_plus(number));
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

boost::system::error_code read_fields(const json::object& obj, std::string_view section,
                                      std::initializer_list<string_field> fields,
                                      std::string& detail) {
  for (const auto& [key, value] : obj) {
    const string_field* f = nullptr;
    for (const auto& candidate : fields)
      if (candidate.key == key) f = &candidate;
    if (f == nullptr) {
      detail = std::string(section) + "." + std::string(key);
      return fake_errc::unknown_key;
    }
    if (!value.is_string()) {
      detail = std::string(section) + "." + std::string(key) + " must be a string";
      return fake_errc::bad_value;
    }
    *f->target = std::string(value.get_string());
  }
  return {};
}

}  // namespace stopgate::fake_carrier::dialect
