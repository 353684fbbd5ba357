#include "gateway/send/relay_call.hpp"

#include "carriers/sandbox/wire.hpp"
#include "gateway/worker.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace stopgate::gateway::send {

// INTERIM until the relay lands on main: the sandbox appends to its outbox here; every other
// carrier fails permanently with "relay_unavailable". Replaced by
// worker::current()->relay->async_send once worker has a relay.
boost::asio::awaitable<carriers::relay::relay_result> async_relay(const config::settings& s,
                                                                  std::span<const std::string> route,
                                                                  carriers::outbound_message msg) {
  carriers::relay::relay_result r;
  for (const auto& name : route) {
    const auto* c = s.carrier(name);
    carriers::relay::attempt a;
    a.carrier = name;
    r.carrier = name;
    if (!c || c->type != config::carrier_type::sandbox) {
      a.error_code = "relay_unavailable";
      a.failure = carriers::failure_class::permanent;
      r.attempts.push_back(a);
      continue;
    }
    const auto line = carriers::sandbox::outbox_line(msg, std::chrono::system_clock::now());
    const auto& path = c->creds<config::sandbox_credentials>().outbox;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == ssize_t(line.size());
    if (fd >= 0) ::close(fd);
    a.request_sent = true;
    a.accepted = ok;
    r.attempts.push_back(a);
    if (ok) {
      auto out = carriers::sandbox::accepted_outcome(msg);
      r.status = carriers::relay::relay_status::sent;
      r.carrier_message_id = out.carrier_message_id;
      r.carrier_status = out.carrier_status;
      r.failure.reset();
      r.error_code.clear();
      co_return r;
    }
    r.attempts.back().error_code = "outbox_write";
  }
  r.status = carriers::relay::relay_status::failed;
  r.failure = carriers::failure_class::permanent;
  r.error_code = r.attempts.empty() ? "no_route" : r.attempts.back().error_code;
  r.error_message = "no carrier of the route accepted the message";
  co_return r;
}

}  // namespace stopgate::gateway::send
