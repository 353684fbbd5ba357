// The socket API's ops as data (SPEC section 3): for each op its name, role, fields (type,
// default, allowed values, nested members), answer members, errors and an example. It is the
// one place an op is named: the transport and the gateway's dispatcher read their role table
// and the strict-field rule from it, and `stopgatectl api reference` writes docs/API.md, the
// JSON Schemas and the OpenAPI document from it (gateway/api/reference.hpp); a test keeps the
// checked-in files equal to what this table generates and sends every example to a gateway.
#pragma once

#include "config/settings.hpp"
#include "gateway/api/error.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stopgate::gateway::api {

/// Every op, for `switch`es that must handle each one (the compiler names a missing case).
enum class op_id : std::uint8_t {
  ping, auth, check, send, consent, optout, optin, lookup, forget, stats, campaign, queue_stats,
  send_batch, events
};

/// How a request field is read.
enum class field_type : std::uint8_t {
  string,      // a JSON string
  number,      // a phone number string: E.164, or national/punctuated NANP (normalised)
  numbers,     // one phone number string, or an array of them (a batch)
  boolean,     // true or false
  time,        // an RFC 3339 time string such as 2026-11-29T14:03:00Z
  choice,      // one of `values` (a string)
  object,      // a JSON object with the fields in `members`
  objects,     // an array of such objects (a batch of requests)
  integer,     // a JSON integer (the doc gives its range)
};

struct field_def {
  std::string_view name;
  field_type type = field_type::string;
  bool required = false;
  std::string_view doc;                        // one or two sentences (Markdown)
  std::string_view default_value = {};         // shown as the default ("" when none)
  std::span<const std::string_view> values{};  // choice: the allowed strings
  std::span<const field_def> members{};        // object: its fields
  std::size_t max_bytes = 0;                   // string: at most this many bytes (0: no bound)
};

/// One member of a success answer (besides `id` and `ok`).
struct answer_def {
  std::string_view name;
  std::string_view json_type;  // "string", "boolean", "integer", "object", "array"; "string?": or null
  bool always = true;          // false: present only in some answers (the doc says when)
  std::string_view doc;
};

struct op_def {
  op_id id;
  std::string_view name;
  std::optional<config::role> role;  // nullopt: no role needed
  bool transport = false;            // answered by the transport itself (ping, auth)
  std::string_view summary;          // one line
  std::string_view doc;              // what it does, in a paragraph (Markdown)
  std::span<const field_def> fields;
  std::span<const answer_def> answer;
  std::span<const api_errc> errors;  // the op's own error codes (transport ones aside)
  std::string_view example_request;  // one request line
  std::string_view example_answer;   // its answer line
  /// Requests of one socket read may be answered together (one contact fetch) when they are
  /// uncommitted and name no `at` (the ops' batchable() applies the rest).
  bool batchable = false;
};

/// Members every request may carry besides the op's own fields.
inline constexpr std::string_view envelope_fields[] = {"op", "id"};
/// Members whose names start with this are the caller's own (tags, tracing): ignored, never
/// refused. Every other member an op does not define is `bad_request`.
inline constexpr std::string_view extension_prefix = "x_";

/// Every op, in the order the reference lists them.
std::span<const op_def> op_table() noexcept;
/// The op named `name`; nullptr when there is none.
const op_def* find_op_def(std::string_view name) noexcept;

/// The message for the first member of `req` that `op` does not define (checked one level
/// into object fields: `source.x`), e.g. "unknown field 'send_at' (send takes: to, ...)";
/// nullopt when every member is defined.
std::optional<std::string> unknown_field(const op_def& op, const boost::json::object& req);

std::string_view to_string(field_type t) noexcept;

}  // namespace stopgate::gateway::api
