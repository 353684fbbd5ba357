// Errors of the Redis client: transport failures only. A Redis error reply ("-ERR ...") is a
// reply (reply::type::error), never one of these.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::redis {

enum class errc {
  not_connected = 1,  // no usable connection right now (connecting, reconnecting, never started)
  timeout,            // the command or pipeline deadline passed before every reply arrived
  connection_lost,    // the connection broke while the command was in flight
  protocol,           // the server sent something the RESP reader could not parse
  stopped,            // stop() was called (or the client was destroyed) first
  bad_command,        // empty command, or a pub/sub / MONITOR command on a plain client
  overloaded,         // too many commands already waiting for replies (client_options::max_pending)
};

const boost::system::error_category& category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace stopgate::redis

template <>
struct boost::system::is_error_code_enum<stopgate::redis::errc> : std::true_type {};
