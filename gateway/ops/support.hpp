// Helpers every op of gateway/ops/ shares: the field decoder that names the field in every
// error, the sender and number readers, the evidence fan-out.
#pragma once

#include "config/settings.hpp"
#include "dnc/contacts/store.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/rfc3339.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::op_support {

namespace asio = boost::asio;
namespace json = boost::json;
using api::api_errc;
using api::op_error;
using api::op_result;
using boost::system::error_code;

/// An error answer with `code` and `message`.
op_result fail(api_errc code, std::string message);
op_result fail(op_error e);

/// Now, to the microsecond (the resolution of evidence timestamps).
dnc::model::sys_time now_us();

class fields {
 public:
  explicit fields(const json::object& o) : o_(o) {}

  const json::string* str(std::string_view key, bool required) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (required) set(std::string(key) + ": required");
      return nullptr;
    }
    if (!v->is_string()) {
      set(std::string(key) + ": must be a string");
      return nullptr;
    }
    return &v->get_string();
  }
  const json::object* obj(std::string_view key, bool required) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (required) set(std::string(key) + ": required");
      return nullptr;
    }
    if (!v->is_object()) {
      set(std::string(key) + ": must be an object");
      return nullptr;
    }
    return &v->get_object();
  }
  bool boolean(std::string_view key, bool dflt) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) return dflt;
    if (!v->is_bool()) {
      set(std::string(key) + ": must be true or false");
      return dflt;
    }
    return v->get_bool();
  }
  /// One of `allowed` (first is the default when absent).
  int choice(std::string_view key, std::initializer_list<std::string_view> allowed) {
    auto* s = str(key, false);
    if (!s) return 0;
    int i = 0;
    for (auto a : allowed) {
      if (*s == a) return i;
      ++i;
    }
    std::string msg = std::string(key) + ": must be one of";
    for (auto a : allowed) msg += " " + std::string(a);
    set(std::move(msg));
    return 0;
  }
  /// An integer in [lo, hi], or `dflt` when absent.
  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t dflt) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) return dflt;
    const auto* i = v->if_int64();
    const auto* u = v->if_uint64();
    if ((!i && !u) || (i && (*i < lo || *i > hi)) || (u && (*u > std::uint64_t(hi)))) {
      set(std::string(key) + ": must be an integer from " + std::to_string(lo) + " to " +
          std::to_string(hi));
      return dflt;
    }
    return i ? *i : std::int64_t(*u);
  }
  std::optional<dnc::model::sys_time> time(std::string_view key, bool required) {
    auto* s = str(key, required);
    if (!s) return std::nullopt;
    auto t = parse_rfc3339(*s);
    if (!t) set(std::string(key) + ": must be an RFC 3339 time such as 2026-11-29T14:03:00Z");
    return t;
  }
  void set(std::string m) {
    if (error_.empty()) error_ = std::move(m);
  }
  bool ok() const { return error_.empty(); }
  op_result failure() const { return fail(api_errc::bad_request, error_); }

 private:
  const json::object& o_;
  std::string error_;
};


/// The sender a request names, or the only configured one (`allow_all`: "*" is accepted and
/// answered with nullptr and name "*"). Sets the error on `f` otherwise.
const config::sender_settings* resolve_sender(const config::settings& s, fields& f, bool allow_all,
                                              std::string& name);

/// The request's `to` as a number, or the answer to give: bad_request when it is missing or
/// not a string, invalid_number (with why) when it cannot be read as one.
boost::system::result<dnc::model::phone_number, op_error> read_to(fields& f);

/// Appends many evidence records concurrently (one group-commit batch), each durable before
/// this returns. Results in order; an empty id marks a failed append.
asio::awaitable<std::vector<std::string>> append_all(evidence::log& log, evidence::record_type type,
                                                     std::vector<json::object> records);

/// The wire name of a consent kind ("express_written", ...).
const char* kind_name(dnc::model::consent_kind k);

/// The answer when there is no contact store.
op_result store_down();

json::array reasons_json(const std::vector<std::string>& reasons);

}  // namespace stopgate::gateway::op_support
