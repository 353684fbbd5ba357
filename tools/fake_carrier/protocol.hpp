// The fake carrier's protocol logic, without I/O: which carrier API a request is for, and
// what that carrier would answer (given the fault that hit it, if any). The server
// (server.hpp) is a thin Beast shell around these functions. Thread-safe.
#pragma once

#include "carriers/wire/types.hpp"
#include "config/settings.hpp"
#include "tools/fake_carrier/credentials.hpp"
#include "tools/fake_carrier/faults.hpp"
#include "tools/fake_carrier/recorder.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::fake_carrier {

/// One request as the fake sees it.
struct request_view {
  std::string_view method;
  std::string_view path;  // without the query
  const carriers::header_list& headers;
  std::string_view body;
  std::string_view query = {};  // after the '?', undecoded ("" when none)
};

/// The answer to send (or, for a fault, the answer the protocol would give).
struct reply {
  int status = 200;
  std::string content_type = "application/json";
  carriers::header_list headers;  // besides Content-Type
  std::string body;
  outcome result = outcome::accepted;
  std::string message_id;   // when accepted
  std::string async_error;  // see recorded_request::async_error
};

/// Message ids unique within one fake (a counter) and, very likely, across fakes (a random
/// instance number). Thread-safe.
class id_source {
 public:
  explicit id_source(std::uint64_t instance) : instance_(instance) {}
  std::uint64_t instance() const noexcept { return instance_; }
  std::uint64_t next() noexcept { return counter_.fetch_add(1, std::memory_order_relaxed) + 1; }

 private:
  std::uint64_t instance_;
  std::atomic<std::uint64_t> counter_{0};
};

struct answer_context {
  const credentials& creds;
  id_source& ids;
  std::chrono::system_clock::time_point now;
};

/// The carrier whose send endpoint `method path` is, as stopgate's adapters call it
/// (credentials.hpp's http.path for the generic carrier, which also answers a GET there in
/// the style of Kannel's generic HTTP SMSC: the message in the query). Account ids in paths are not
/// checked here (a wrong one is an authentication failure); nullopt means 404.
std::optional<config::carrier_type> route(std::string_view method, std::string_view path,
                                          const credentials& creds);

/// What carrier `c` answers. Faults rate_limit and server_error answer before credentials
/// are checked (as a carrier's front end would); opted_out and permanent only for a request
/// that passes authentication and validation. Other fault kinds are the server's business
/// and ignored here.
reply answer(config::carrier_type c, const request_view& r, const std::optional<fault>& f,
             const answer_context& ctx);

}  // namespace stopgate::fake_carrier
