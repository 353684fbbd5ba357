#include "gateway/dialer/sip/peer.hpp"

namespace stopgate::gateway::dialer::sip {

std::string peer::to_string() const {
  std::string out = proto == transport::udp ? "udp:" : "tcp:";
  if (addr.is_v6())
    out.append("[").append(addr.to_string()).append("]");
  else
    out.append(addr.to_string());
  out.append(":").append(std::to_string(port));
  return out;
}

}  // namespace stopgate::gateway::dialer::sip
