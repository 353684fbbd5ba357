// The seam between the socket API transport and the op handlers.
//
// The transport frames and decodes lines, authenticates, checks roles, answers `ping` and
// `auth` itself, and hands every other request to a dispatcher. One dispatcher serves all
// connections on all threads, so its methods must be thread-safe; async_handle runs on the
// connection's executor (a strand) and may suspend on anything (Redis, evidence, carriers).
#pragma once

#include "config/settings.hpp"
#include "gateway/api/error.hpp"
#include "gateway/api/op_table.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::gateway::api {

/// Who is asking. Valid for the duration of one async_handle call.
struct request_context {
  std::string_view key_name;          // the authenticated key's name; "" when no keys are configured
  std::uint8_t roles = 0;             // bit set of config::role (all roles when no keys)
  bool loopback = false;              // loopback TCP or unix-socket peer
  const config::settings* settings = nullptr;  // the snapshot this request was accepted under
  /// Storage of the request object: allocate the response object from it (optional) to avoid
  /// heap allocations; it lives until the response is serialised.
  boost::json::storage_ptr storage;
  /// The event loop (worker) the request runs on: the index of its io_context in the list the
  /// server was given. Handlers use that worker's connections and contact store.
  unsigned worker = 0;
  /// The op's row of op_table(), when the transport already looked it up (admit()); null:
  /// the handler looks it up by name.
  const op_def* def = nullptr;
};

/// An op's failure: one of the SPEC codes and a message for the client.
struct op_error {
  api_errc code = api_errc::internal;
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const op_error& e, const boost::source_location& loc);

/// The fields of a success response (without "id" and "ok"), or an error.
using op_result = boost::system::result<boost::json::object, op_error>;

/// What an op needs before it may run.
struct op_spec {
  std::optional<config::role> role;  // nullopt: no role needed
  const op_def* def = nullptr;       // the op's row of op_table(); null for a dispatcher's own ops
};

class dispatcher {
 public:
  virtual ~dispatcher() = default;

  /// Handles one request. `op` is the request's op; `req` the whole request object (op, id
  /// and the op's fields). A thrown exception is logged and answered with `internal`.
  virtual boost::asio::awaitable<op_result> async_handle(std::string_view op,
                                                         const boost::json::object& req,
                                                         const request_context& ctx) = 0;

  /// The op's requirements, or nullopt when the op is unknown (answered unknown_op).
  /// Called for every request before async_handle; must be cheap.
  virtual std::optional<op_spec> find_op(std::string_view op) const = 0;
};

/// The role of an op of op_table() (check: check, lookup; send: send; consent: consent, optout,
/// optin; admin: forget, stats; ping, auth: none), with its row. nullopt for ops not in the
/// table (`reload` is not an op: SIGHUP reloads).
std::optional<op_spec> standard_op_spec(std::string_view op) noexcept;

/// What a transport does with a decoded request, as admit() decides it.
enum class admission : std::uint8_t {
  run,      // hand it to the dispatcher (`spec` is set)
  ping,     // the transport's own ops: answered by the transport
  auth,
  refused,  // answer `error`
};
struct admitted {
  admission what = admission::refused;
  std::optional<op_spec> spec;
  op_error error;
};

/// The checks every transport (socket API, POST /v1/ops) makes before an op runs, in this
/// order: a field the op does not define is refused (bad_request, never ignored: SPEC
/// section 3); ping and auth are the transport's; an op the dispatcher does not know is
/// unknown_op; an op whose role `roles` lacks is forbidden.
admitted admit(const dispatcher& d, std::string_view op, const boost::json::object& req,
               std::uint8_t roles);

/// The wire name of a role ("check", ...).
std::string_view to_string(config::role r) noexcept;

}  // namespace stopgate::gateway::api
