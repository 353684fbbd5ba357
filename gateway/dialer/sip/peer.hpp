// Where a SIP message came from or goes to: transport, address, port and, for TCP, the
// connection it travels on. A plain value; no I/O.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>

namespace stopgate::gateway::dialer::sip {

enum class transport : std::uint8_t { udp, tcp };

struct peer {
  transport proto = transport::udp;
  boost::asio::ip::address addr;
  std::uint16_t port = 0;
  std::uint64_t connection = 0;  // TCP: the connection's id (responses go back on it)

  bool reliable() const noexcept { return proto == transport::tcp; }
  /// "udp:192.0.2.1:5060" for logs.
  std::string to_string() const;
  friend bool operator==(const peer&, const peer&) = default;
};

}  // namespace stopgate::gateway::dialer::sip
