// The standard process metrics of a Prometheus exporter (process_cpu_seconds_total,
// process_resident_memory_bytes, ...) and stopgate_build_info, read from /proc on demand.
#pragma once

#include "gateway/http/prometheus.hpp"

#include <vector>

namespace stopgate::gateway {

/// Appends process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_open_fds, process_max_fds,
/// process_start_time_seconds (the names the Prometheus client libraries use) and
/// stopgate_build_info{version}. A value /proc cannot give is left out. Thread-safe.
void append_process_families(std::vector<http::metric_family>& families);

}  // namespace stopgate::gateway
