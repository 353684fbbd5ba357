#include "tools/fake_carrier/webhooks.hpp"

#include "tools/fake_carrier/dialect.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace stopgate::fake_carrier {
namespace {

namespace json = boost::json;
using config::carrier_type;
using dialect::digits;
using dialect::params;

webhook base(const config::carrier_settings& c, std::string_view kind, std::string_view base_url,
             std::string& url) {
  webhook w;
  w.path = "/v1/" + std::string(kind) + "/" + c.name;
  url = std::string(base_url) + w.path;
  return w;
}

}  // namespace

webhook inbound_webhook(const config::carrier_settings& c, std::string_view base_url,
                        const inbound_spec& m, std::chrono::system_clock::time_point now,
                        const signing& keys) {
  std::string url;
  webhook w = base(c, "inbound", base_url, url);
  const dialect::carrier_row& row = dialect::row_of(c.type);
  const dialect::build b{c, url, now, keys};
  params p;
  row.inbound(w, p, m, b);
  row.sign(w, std::move(p), "n-" + m.carrier_message_id, b);
  return w;
}

webhook status_webhook(const config::carrier_settings& c, std::string_view base_url,
                       const status_spec& st, std::chrono::system_clock::time_point now,
                       const signing& keys) {
  std::string url;
  webhook w = base(c, "status", base_url, url);
  const dialect::carrier_row& row = dialect::row_of(c.type);
  const dialect::build b{c, url, now, keys};
  params p;
  row.status(w, p, st, b);
  row.sign(w, std::move(p), "n-" + st.carrier_message_id + "-" + st.status, b);
  return w;
}

webhook inbound_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                              const std::vector<inbound_spec>& ms,
                              std::chrono::system_clock::time_point now, const signing& keys) {
  if (c.type != carrier_type::bandwidth || ms.empty())
    throw std::invalid_argument("inbound_batch_webhook: bandwidth only, at least one message");
  // Basic auth does not cover the body: the events of single webhooks are joined as they are.
  webhook w = inbound_webhook(c, base_url, ms.front(), now, keys);
  json::array events;
  for (const auto& m : ms)
    events.push_back(json::parse(inbound_webhook(c, base_url, m, now, keys).body).at(0));
  w.body = json::serialize(events);
  return w;
}

webhook status_batch_webhook(const config::carrier_settings& c, std::string_view base_url,
                             const std::vector<status_spec>& sts,
                             std::chrono::system_clock::time_point now, const signing& keys) {
  if (sts.empty()) throw std::invalid_argument("status_batch_webhook: no update");
  if (c.type == carrier_type::bandwidth) {
    webhook w = status_webhook(c, base_url, sts.front(), now, keys);
    json::array events;
    for (const auto& st : sts)
      events.push_back(json::parse(status_webhook(c, base_url, st, now, keys).body).at(0));
    w.body = json::serialize(events);
    return w;
  }
  if (c.type != carrier_type::sinch)
    throw std::invalid_argument("status_batch_webhook: bandwidth or sinch only");
  // A Sinch batch report: one status entry per update, each with its one recipient.
  std::string url;
  webhook w = base(c, "status", base_url, url);
  json::array statuses;
  for (const auto& st : sts)
    statuses.push_back(json::object{{"code", st.error_code.empty() ? 0 : std::stoll(st.error_code)},
                                    {"status", st.status},
                                    {"count", 1},
                                    {"recipients", json::array{json::value(digits(st.to))}}});
  json::object o{{"type", "delivery_report_sms"},
                 {"batch_id", sts.front().carrier_message_id},
                 {"total_message_count", static_cast<std::int64_t>(sts.size())},
                 {"statuses", std::move(statuses)}};
  w.content_type = "application/json";
  w.body = json::serialize(o);
  dialect::row_of(c.type).sign(w, {}, "n-" + sts.front().carrier_message_id + "-batch",
                               dialect::build{c, url, now, keys});
  return w;
}

std::string to_http(const webhook& w, std::string_view host) {
  std::string r = w.method + " " + w.path + " HTTP/1.1\r\nHost: " + std::string(host) +
                  "\r\nConnection: close\r\n";
  if (!w.content_type.empty()) r += "Content-Type: " + w.content_type + "\r\n";
  for (auto& [k, v] : w.headers) r += k + ": " + v + "\r\n";
  r += "Content-Length: " + std::to_string(w.body.size()) + "\r\n\r\n" + w.body;
  return r;
}

}  // namespace stopgate::fake_carrier
