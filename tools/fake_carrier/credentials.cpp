#include "tools/fake_carrier/credentials.hpp"

#include "tools/fake_carrier/error.hpp"

#include <boost/json/parse.hpp>

#include <initializer_list>

namespace stopgate::fake_carrier {
namespace {

namespace json = boost::json;
using config::carrier_type;
using config::secret;

struct field {
  std::string_view key;
  std::string* target;
};

// Copies the string fields of `obj` named in `fields`; anything else is an error.
boost::system::error_code read_fields(const json::object& obj, std::string_view section,
                                      std::initializer_list<field> fields, std::string& detail) {
  for (const auto& [key, value] : obj) {
    const field* f = nullptr;
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

boost::system::error_code read_http(const json::object& obj, credentials::http_creds& h,
                                    std::string& detail) {
  for (const auto& [key, value] : obj) {
    if (key == "path") {
      if (!value.is_string() || !value.get_string().starts_with("/")) {
        detail = "http.path must be a string starting with '/'";
        return fake_errc::bad_value;
      }
      h.path = std::string(value.get_string());
    } else if (key == "headers") {
      if (!value.is_object()) {
        detail = "http.headers must be an object of strings";
        return fake_errc::bad_value;
      }
      h.headers.clear();
      for (const auto& [name, v] : value.get_object()) {
        if (!v.is_string()) {
          detail = "http.headers." + std::string(name) + " must be a string";
          return fake_errc::bad_value;
        }
        h.headers.emplace_back(std::string(name), std::string(v.get_string()));
      }
    } else {
      detail = "http." + std::string(key);
      return fake_errc::unknown_key;
    }
  }
  return {};
}

}  // namespace

std::optional<carrier_type> carrier_from_name(std::string_view name) noexcept {
  for (auto t : spoken_carriers)
    if (config::to_string(t) == name) return t;
  return std::nullopt;
}

boost::system::result<credentials> parse_credentials(std::string_view json_text,
                                                     std::string& detail) {
  boost::system::error_code ec;
  json::value root = json::parse(json_text, ec);
  if (ec || !root.is_object()) {
    detail = ec ? ec.message() : "the top level must be an object";
    return make_error_code(fake_errc::bad_json);
  }
  credentials c;
  for (const auto& [key, value] : root.get_object()) {
    if (!value.is_object()) {
      detail = std::string(key) + " must be an object";
      return make_error_code(fake_errc::bad_value);
    }
    const json::object& o = value.get_object();
    auto t = carrier_from_name(key);
    if (!t) {
      detail = std::string(key);
      return make_error_code(fake_errc::unknown_carrier);
    }
    switch (*t) {
      case carrier_type::twilio:
        ec = read_fields(o, key, {{"account_sid", &c.twilio.account_sid},
                                  {"auth_token", &c.twilio.auth_token}}, detail);
        break;
      case carrier_type::telnyx:
        ec = read_fields(o, key, {{"api_key", &c.telnyx.api_key}}, detail);
        break;
      case carrier_type::bandwidth:
        ec = read_fields(o, key, {{"account_id", &c.bandwidth.account_id},
                                  {"application_id", &c.bandwidth.application_id},
                                  {"username", &c.bandwidth.username},
                                  {"password", &c.bandwidth.password},
                                  {"token", &c.bandwidth.token}}, detail);
        break;
      case carrier_type::vonage:
        ec = read_fields(o, key, {{"api_key", &c.vonage.api_key},
                                  {"api_secret", &c.vonage.api_secret}}, detail);
        break;
      case carrier_type::plivo:
        ec = read_fields(o, key, {{"auth_id", &c.plivo.auth_id},
                                  {"auth_token", &c.plivo.auth_token}}, detail);
        break;
      case carrier_type::sinch:
        ec = read_fields(o, key, {{"service_plan_id", &c.sinch.service_plan_id},
                                  {"api_token", &c.sinch.api_token}}, detail);
        break;
      case carrier_type::http: ec = read_http(o, c.http, detail); break;
      case carrier_type::sandbox: break;
    }
    if (ec) return ec;
  }
  return c;
}

config::carrier_settings settings_for(carrier_type type, const credentials& c,
                                      std::string_view base_url) {
  config::carrier_settings s;
  s.name = std::string(config::to_string(type));
  s.type = type;
  s.base_url = std::string(base_url);
  switch (type) {
    case carrier_type::twilio:
      s.credentials = config::twilio_credentials{c.twilio.account_sid,
                                                 secret::from_inline(c.twilio.auth_token)};
      break;
    case carrier_type::telnyx:
      s.credentials = config::telnyx_credentials{secret::from_inline(c.telnyx.api_key), {}};
      break;
    case carrier_type::bandwidth: {
      config::bandwidth_credentials b;
      b.account_id = c.bandwidth.account_id;
      b.application_id = c.bandwidth.application_id;
      b.username = c.bandwidth.username;
      b.password = secret::from_inline(c.bandwidth.password);
      b.token = secret::from_inline(c.bandwidth.token);
      s.credentials = std::move(b);
      break;
    }
    case carrier_type::vonage: {
      config::vonage_credentials v;
      v.api_key = c.vonage.api_key;
      v.api_secret = secret::from_inline(c.vonage.api_secret);
      s.credentials = std::move(v);
      break;
    }
    case carrier_type::plivo:
      s.credentials =
          config::plivo_credentials{c.plivo.auth_id, secret::from_inline(c.plivo.auth_token)};
      break;
    case carrier_type::sinch:
      s.credentials = config::sinch_credentials{
          c.sinch.service_plan_id, secret::from_inline(c.sinch.api_token), {}};
      break;
    case carrier_type::http: {
      config::http_credentials h;
      h.url = std::string(base_url) + c.http.path;
      for (const auto& [name, value] : c.http.headers)
        h.headers.emplace_back(name, secret::from_inline(value));
      s.base_url.clear();
      s.credentials = std::move(h);
      break;
    }
    case carrier_type::sandbox: break;
  }
  return s;
}

}  // namespace stopgate::fake_carrier
