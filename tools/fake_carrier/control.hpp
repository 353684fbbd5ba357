// The fake carrier's control API for scripts and benchmarks, without I/O: requests under
// /_fake/ become actions on the fault table and the recorder. Thread-safe.
//
//   GET    /_fake/health                 {"status": "ok"}
//   GET    /_fake/requests[?carrier=X]   recorded requests, oldest first
//   GET    /_fake/stats                  counters (recorder.hpp `stats`)
//   GET    /_fake/faults                 active faults with their remaining counts
//   POST   /_fake/faults                 add one fault (object) or several (array)
//   DELETE /_fake/faults                 remove every fault
//   POST   /_fake/reset                  forget records, zero counters, remove faults
#pragma once

#include "tools/fake_carrier/faults.hpp"
#include "tools/fake_carrier/protocol.hpp"
#include "tools/fake_carrier/recorder.hpp"

#include <string_view>

namespace stopgate::fake_carrier {

/// The path prefix the control API owns.
inline constexpr std::string_view control_prefix = "/_fake/";

/// Answers one control request (`target` is path and query). Unknown paths are 404, a
/// known path with another method 405, a bad fault 400 {"error", "detail"}.
reply handle_control(std::string_view method, std::string_view target, std::string_view body,
                     fault_table& faults, recorder& rec);

}  // namespace stopgate::fake_carrier
