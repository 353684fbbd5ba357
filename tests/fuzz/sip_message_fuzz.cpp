// Fuzzes the SIP message parser and the gate behind it: no crash on any bytes; a message that
// parses is answerable iff its parts are there; a 400 or any other response the gate sends
// parses back as a response with the request's Call-ID and CSeq; the TCP framer never hands
// out more bytes than it was given. Inputs are also fed to a gate as datagrams, twice (the
// second time a retransmission), with an answer for every check it starts.
#include "gateway/dialer/sip/gate.hpp"
#include "gateway/dialer/sip/message.hpp"
#include "gateway/dialer/sip/stream_framer.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace stopgate::gateway::dialer;

void check(bool ok) {
  if (!ok) std::abort();
}

std::shared_ptr<const stopgate::config::settings> settings() {
  static const auto s = [] {
    auto x = std::make_shared<stopgate::config::settings>();
    stopgate::config::dialer_sip_sender row;
    row.name = "acme";
    row.sources = {*stopgate::config::parse_ip_network("0.0.0.0/0")};
    row.trunk = "sip:trunk.example.com";
    x->dialer.sip.senders = {row};
    x->dialer.sip.sender_header = "X-Stopgate-Sender";
    x->dialer.sip.strip_prefixes = {"9"};
    return x;
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  sip::message m;
  const sip::parse_error e = m.parse(bytes.data(), bytes.size());
  if (e == sip::parse_error::none && m.is_request()) check(m.answerable());

  // The gate: every response it sends must parse back and echo the request's identity.
  sip::gate g(settings(), 1);
  sip::instant now{std::chrono::steady_clock::time_point{} + std::chrono::hours(1),
                   std::chrono::system_clock::now()};
  sip::peer from{sip::transport::udp, boost::asio::ip::make_address("192.0.2.1"), 5060, 0};
  sip::gate_output out;
  for (int round = 0; round < 2; ++round) {
    std::string copy(reinterpret_cast<const char*>(data), size);
    out.clear();
    g.on_message(copy.data(), copy.size(), from, now, out);
    auto answered = out;
    for (const auto& c : answered.checks) {
      voice_answer a;
      a.outcome = decision(c.id % 3);
      a.reasons = {"optout"};
      a.to = c.query.to;
      g.on_answer(c.id, a, now, out);
    }
    for (auto& s : out.sends) {
      sip::message r;
      std::string text = s.bytes;
      check(r.parse(text.data(), text.size()) == sip::parse_error::none);
      check(!r.is_request());
    }
    now.mono += std::chrono::seconds(40);
    out.clear();
    g.on_timer(now, out);
  }
  check(g.transactions() == 0 || g.next_deadline().has_value());

  // The stream framer over the same bytes, fed in two parts.
  sip::stream_framer framer(4096);
  std::size_t given = 0, taken = 0;
  for (std::size_t part : {size / 2, size - size / 2}) {
    auto room = framer.prepare();
    std::size_t n = std::min(part, room.size());
    std::memcpy(room.data(), data + given, n);
    framer.commit(n);
    given += n;
    for (;;) {
      std::span<char> msg;
      auto st = framer.next(msg);
      if (st != sip::stream_framer::status::message) break;
      taken += msg.size();
      check(taken <= given);
    }
  }
  return 0;
}
