#include "tools/fake_carrier/control.hpp"

#include "tools/fake_carrier/dialect.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

namespace stopgate::fake_carrier {
namespace {

namespace json = boost::json;

reply error(int status, std::string_view message, std::string_view detail = {}) {
  return dialect::json_reply(status, json::object{{"error", message}, {"detail", detail}},
                             outcome::invalid);
}

reply ok(const json::value& v) { return dialect::json_reply(200, v, outcome::accepted); }

reply list_requests(std::string_view target, const recorder& rec) {
  std::optional<config::carrier_type> only;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return error(400, "bad target");
  auto params = url->params();
  if (auto it = params.find("carrier"); it != params.end()) {
    only = carrier_from_name((*it).value);
    if (!only) return error(400, "unknown carrier", (*it).value);
  }
  json::array out;
  for (const auto& r : rec.requests(only)) out.push_back(to_json(r));
  return ok(out);
}

reply faults_endpoint(std::string_view method, std::string_view body, fault_table& faults) {
  if (method == "GET") {
    json::array out;
    for (const auto& f : faults.list()) out.push_back(to_json(f));
    return ok(out);
  }
  if (method == "DELETE") {
    faults.clear();
    return ok(json::object{{"cleared", true}});
  }
  if (method != "POST") return error(405, "method not allowed");
  std::string detail;
  auto parsed = parse_faults(body, detail);
  if (!parsed) return error(400, parsed.error().message(), detail);
  for (auto& f : *parsed) faults.add(std::move(f));
  return ok(json::object{{"added", parsed->size()}});
}

}  // namespace

reply handle_control(std::string_view method, std::string_view target, std::string_view body,
                     fault_table& faults, recorder& rec) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/_fake/health") {
    if (method != "GET") return error(405, "method not allowed");
    return ok(json::object{{"status", "ok"}});
  }
  if (path == "/_fake/requests") {
    if (method != "GET") return error(405, "method not allowed");
    return list_requests(target, rec);
  }
  if (path == "/_fake/stats") {
    if (method != "GET") return error(405, "method not allowed");
    return ok(to_json(rec.snapshot()));
  }
  if (path == "/_fake/faults") return faults_endpoint(method, body, faults);
  if (path == "/_fake/reset") {
    if (method != "POST") return error(405, "method not allowed");
    faults.clear();
    rec.clear();
    return ok(json::object{{"reset", true}});
  }
  return error(404, "no such control endpoint", path);
}

}  // namespace stopgate::fake_carrier
