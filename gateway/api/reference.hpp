// The API reference, generated from op_table(): docs/API.md, a JSON Schema (2020-12) for each
// op's request and answer, and an OpenAPI 3.1 document for the HTTP routes. `stopgatectl api
// reference --out docs` writes them; tests/gateway/api_reference_test.cpp fails when the
// checked-in files differ from what the table generates.
#pragma once

#include "gateway/api/op_table.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <utility>
#include <vector>

namespace stopgate::gateway::api {

/// JSON Schema of one op's request line (envelope included; `x_` members allowed).
boost::json::object request_schema(const op_def& op);
/// JSON Schema of one op's success answer line.
boost::json::object answer_schema(const op_def& op);
/// OpenAPI 3.1 for /v1/ops, /v1/check, /healthz, /readyz, /metrics and the webhook routes.
boost::json::object openapi_document();
/// docs/API.md.
std::string reference_markdown();

/// JSON text with two-space indentation and a final newline (stable: members keep their order).
std::string pretty_json(const boost::json::value& v);

/// Every generated file: (path relative to the docs directory, content).
std::vector<std::pair<std::string, std::string>> reference_files();

}  // namespace stopgate::gateway::api
