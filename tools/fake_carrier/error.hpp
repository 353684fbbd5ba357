// Errors of the fake carrier's own inputs: its config file and the faults posted to its
// control API. (What it answers to stopgate is carrier HTTP, never one of these.)
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::fake_carrier {

enum class fake_errc {
  bad_json = 1,     // not valid JSON, or not the expected object/array shape
  unknown_key,      // a key the format does not have (a typo would otherwise be ignored)
  bad_value,        // a value of the wrong type or out of range
  unknown_carrier,  // a carrier name the fake does not speak
  unknown_fault,    // a fault kind the fake does not know
};

const boost::system::error_category& fake_category() noexcept;
inline boost::system::error_code make_error_code(fake_errc e) noexcept {
  return {static_cast<int>(e), fake_category()};
}

}  // namespace stopgate::fake_carrier

template <>
struct boost::system::is_error_code_enum<stopgate::fake_carrier::fake_errc> : std::true_type {};
