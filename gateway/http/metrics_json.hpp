// The /metrics families as JSON, for the socket API's `stats` op (SPEC section 3: "the same
// counters as /metrics").
#pragma once

#include "gateway/http/prometheus.hpp"

#include <boost/json/object.hpp>

#include <vector>

namespace stopgate::gateway::http {

/// {"FAMILY": {"type": "counter"|"gauge"|"histogram", "help": "...",
///             "samples": [{"name": "FAMILY_bucket", "labels": {"le": "0.001"}, "value": 3}]}}
/// Samples keep their order; a family named twice is merged. Pure; thread-safe.
boost::json::object metrics_to_json(const std::vector<metric_family>& families);

}  // namespace stopgate::gateway::http
