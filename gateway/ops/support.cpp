#include "gateway/ops/support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace stopgate::gateway::op_support {

op_result fail(api_errc code, std::string message) {
  return op_result(boost::system::in_place_error, op_error{code, std::move(message)});
}

op_result fail(op_error e) {
  return op_result(boost::system::in_place_error, std::move(e));
}

dnc::model::sys_time now_us() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}


// The sender a request names, or the only configured one.
const config::sender_settings* resolve_sender(const config::settings& s, fields& f, bool allow_all,
                                              std::string& name) {
  auto* v = f.str("sender", false);
  if (v) {
    name = std::string(*v);
    if (allow_all && name == "*") return nullptr;
    auto* snd = s.sender(name);
    if (!snd) f.set("sender: unknown sender '" + name + "'");
    return snd;
  }
  auto* sole = s.sole_sender();
  if (!sole) {
    f.set("sender: required (several senders are configured)");
    return nullptr;
  }
  name = sole->name;
  return sole;
}

boost::system::result<dnc::model::phone_number, op_error> read_to(fields& f) {
  auto* to = f.str("to", true);
  if (!to) return op_error{api_errc::bad_request, f.failure().error().message};
  auto n = dnc::model::parse_phone(*to);
  if (!n) return op_error{api_errc::invalid_number, "to: " + n.error().message()};
  return *n;
}

// Appends many evidence records concurrently (one group-commit batch), each durable before
// this returns. Results in order; an empty id marks a failed append.
asio::awaitable<std::vector<std::string>> append_all(evidence::log& log, evidence::record_type type,
                                                     std::vector<json::object> records) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<std::string> ids(records.size());
  if (records.empty()) co_return ids;
  auto remaining = std::make_shared<std::size_t>(records.size());
  auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < records.size(); ++i) {
    asio::co_spawn(
        ex,
        [&log, type, rec = std::move(records[i]), &ids, i, remaining,
         done]() mutable -> asio::awaitable<void> {
          auto r = co_await log.async_append(type, std::move(rec));
          if (r) ids[i] = r->id;
          if (--*remaining == 0) done->cancel();
        },
        asio::detached);
  }
  error_code ec;
  while (*remaining > 0) co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return ids;
}

const char* kind_name(dnc::model::consent_kind k) {
  switch (k) {
    case dnc::model::consent_kind::express_written:
      return "express_written";
    case dnc::model::consent_kind::express:
      return "express";
    case dnc::model::consent_kind::ebr_purchase:
      return "ebr_purchase";
    case dnc::model::consent_kind::ebr_inquiry:
      return "ebr_inquiry";
  }
  return "express";
}

op_result store_down() { return fail(api_errc::store_unavailable, "the contact store is not reachable"); }

json::array reasons_json(const std::vector<std::string>& reasons) {
  json::array a;
  a.reserve(reasons.size());
  for (auto& r : reasons) a.emplace_back(r);
  return a;
}

}  // namespace stopgate::gateway::op_support
