// The fake carrier: one loopback HTTP/1.1 server (Boost.Beast, keep-alive) that speaks the
// send API of every carrier stopgate has an adapter for, checks credentials and required
// fields, answers with the carrier's real bodies, records every request, and injects faults.
// docs/dev/FAKE_CARRIER.md describes the protocol details, faults and control API.
//
//   auto fake = fake_carrier::server::start({}).value();     // 127.0.0.1, free port
//   auto s = fake->settings_for(config::carrier_type::twilio);  // base_url points at it
//   fake->add_fault({.kind = fault_kind::rate_limit, .count = 1});
//   ... send through stopgate ...
//   auto reqs = fake->requests(config::carrier_type::twilio);
#pragma once

#include "config/settings.hpp"
#include "tools/fake_carrier/credentials.hpp"
#include "tools/fake_carrier/faults.hpp"
#include "tools/fake_carrier/recorder.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::fake_carrier {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: a free port (see server::port())
  unsigned threads = 1;     // io threads; each connection runs on its own strand
  credentials creds;
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_connections = 10000;  // more are closed at once
  std::size_t max_records = 100000;     // recorded requests kept (oldest dropped)
  /// A connection idle (or a request unfinished) this long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  /// The timeout fault holds a connection at most this long.
  std::chrono::milliseconds hang_limit{std::chrono::minutes(10)};
  std::uint64_t seed = 0;  // fractional faults and id prefix; 0 = random
  /// Receive times and the times in response bodies; default system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Thread-safe: every public member may be called from any thread, while the server runs.
class server {
 public:
  /// Binds, listens and starts the io threads. Fails with the bind/listen error.
  static boost::system::result<std::unique_ptr<server>> start(server_options opts);
  /// stop().
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  unsigned short port() const noexcept;
  /// "http://ADDRESS:PORT" (no trailing slash): the base_url for carrier settings.
  std::string base_url() const;
  const credentials& creds() const noexcept;
  /// fake_carrier::settings_for(type, creds(), base_url()).
  config::carrier_settings settings_for(config::carrier_type type) const;

  void add_fault(fault f);
  void clear_faults();
  std::vector<fault> faults() const;

  /// Recorded send requests, oldest first (control requests are not recorded).
  std::vector<recorded_request> requests(
      std::optional<config::carrier_type> carrier = std::nullopt) const;
  stats counters() const;
  /// Forgets records and zeroes counters (faults stay).
  void clear();
  /// clear() and clear_faults().
  void reset();

  /// Closes the listener and every connection (hanging and delayed ones too), waits up to
  /// `grace` for the connections to finish, then stops the io threads and joins them.
  /// Idempotent. Must not be called from one of the server's own io threads.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));

  struct state;

 private:
  explicit server(std::unique_ptr<state> st);
  std::unique_ptr<state> state_;
};

}  // namespace stopgate::fake_carrier
