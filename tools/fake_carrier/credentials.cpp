#include "tools/fake_carrier/credentials.hpp"

#include "tools/fake_carrier/dialect.hpp"
#include "tools/fake_carrier/error.hpp"

#include <boost/json/parse.hpp>

namespace stopgate::fake_carrier {
namespace json = boost::json;
using config::carrier_type;

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
    ec = dialect::row_of(*t).read_credentials(o, key, c, detail);
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
  dialect::row_of(type).settings(s, c, base_url);
  return s;
}

}  // namespace stopgate::fake_carrier
