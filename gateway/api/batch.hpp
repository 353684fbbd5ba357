// Batched handling of pipelined requests: an optional second interface of a dispatcher.
//
// A connection collects the requests that batchable() accepts while it takes the lines of one
// socket read, and hands them to one async_handle_batch call: one coroutine per read instead
// of one per request, and the handler can serve them together (the gateway's `check` reads the
// contacts of all of them with one fetch). Responses go out in one write. Every other request
// goes through dispatcher::async_handle as before. Like the dispatcher, one batch_handler
// serves all connections on all threads: its methods must be thread-safe; async_handle_batch
// runs on the connection's executor and may suspend.
#pragma once

#include "gateway/api/dispatcher.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stopgate::gateway::api {

/// A success answer the handler wrote itself as JSON text: the members that follow "ok":true
/// (for example `"result":{...}`, without surrounding braces or a leading comma), at
/// [begin, end) of the batch's text buffer. Saves building and serialising a JSON object.
struct written_fields {
  std::size_t begin = 0, end = 0;
};

/// One request of a batch.
struct batch_entry {
  std::string_view op;
  const boost::json::object* req = nullptr;  // the whole request object
  request_context ctx;                       // as for async_handle
  std::optional<op_result> result;           // set by the handler, or
  std::optional<written_fields> written;     // this; both left empty -> `internal`
};

class batch_handler {
 public:
  virtual ~batch_handler() = default;

  /// True when this request may be handled together with the others of its read (short ops
  /// only: a batch is answered when its slowest entry is). Called after admit() with the op's
  /// row as it found it (`def`, null for an op outside op_table()); must be cheap.
  virtual bool batchable(std::string_view op, const op_def* def,
                         const boost::json::object& req) const = 0;

  /// Handles the entries (only requests batchable() accepted) and sets each one's result, or
  /// appends its answer's members to `text` (empty at the call) and sets `written` (a result,
  /// when set, wins). The entries, their requests and contexts stay valid for the whole call.
  /// A thrown exception is logged and every entry without an answer is answered `internal`.
  virtual boost::asio::awaitable<void> async_handle_batch(std::span<batch_entry> entries, std::string& text) = 0;
};

}  // namespace stopgate::gateway::api
