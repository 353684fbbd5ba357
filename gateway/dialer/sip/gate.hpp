// The SIP redirect gate as a sans-I/O state machine: bytes and instants in, datagrams to send
// and checks to run out. The Asio shell (sip/server.hpp) feeds it what the sockets read, runs
// the checks it asks for, and arms one timer at next_deadline().
//
// Server transactions follow RFC 3261 section 17.2 for a redirect server:
// - INVITE: Proceeding while the check runs (a 100 Trying goes out after 200 ms, or at once
//   for a retransmission); Completed with the final response, retransmitted over UDP at T1,
//   2*T1 ... T2 (Timer G) until the ACK comes or 64*T1 passes (Timer H); Confirmed absorbs
//   ACK retransmissions for T4 (Timer I; 0 over TCP). A retransmitted INVITE gets the last
//   response again and never a second check, so one call is one decision and one evidence
//   record.
// - CANCEL (9.2): 200 OK, and 487 Request Terminated for an INVITE still in Proceeding; 481
//   when it matches no INVITE. OPTIONS: 200 OK. Other methods: 405 (481 for BYE); requests
//   inside a dialog: 481.
// - Non-INVITE: Completed at once; retransmissions get the same response for 64*T1 (Timer J;
//   0 over TCP).
// Transactions are matched by the top Via's branch and sent-by and the method (ACK and CANCEL
// to their INVITE), with the RFC 2543 fallback for branches without the magic cookie. A
// malformed request that can still be answered gets 400 with the problem as its reason
// phrase; anything else malformed is dropped. Not thread-safe: one gate per worker thread.
#pragma once

#include "config/settings.hpp"
#include "gateway/dialer/sip/peer.hpp"
#include "gateway/dialer/sip/redirect.hpp"
#include "gateway/dialer/sip/response.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace stopgate::gateway::dialer::sip {

/// The time now, on both clocks: steady for timers, the wall clock for Retry-After.
struct instant {
  std::chrono::steady_clock::time_point mono;
  std::chrono::system_clock::time_point wall;
};

struct send_action {
  peer to;
  std::string bytes;
};

struct check_action {
  std::uint64_t id = 0;
  voice_check query;
};

/// What one call into the gate asks the shell to do. Reuse it (clear() keeps capacity).
struct gate_output {
  std::vector<send_action> sends;
  std::vector<check_action> checks;
  void clear() {
    sends.clear();
    checks.clear();
  }
};

/// Counts since start. Plain integers: read them on the gate's own thread.
struct gate_counters {
  std::uint64_t invites = 0;          // new INVITE transactions
  std::uint64_t retransmissions = 0;  // requests absorbed by a transaction
  std::uint64_t redirected = 0;       // 302
  std::uint64_t denied = 0;           // 603/608
  std::uint64_t deferred = 0;         // 480
  std::uint64_t refused = 0;          // INVITEs answered without a check (4xx)
  std::uint64_t cancelled = 0;        // 487 after a CANCEL
  std::uint64_t check_timeouts = 0;
  std::uint64_t bad_requests = 0;  // 400
  std::uint64_t dropped = 0;       // malformed and unanswerable, or stray responses/ACKs
  std::uint64_t overloaded = 0;    // 503: the transaction table was full
  std::uint64_t ack_timeouts = 0;  // Timer H fired: no ACK for a final response
};

class gate {
 public:
  /// `tag_seed` makes this gate's To tags distinct from other gates' (pass a random value).
  gate(std::shared_ptr<const config::settings> settings, std::uint64_t tag_seed);

  /// A reloaded configuration: the sender table, statuses and timers apply to new
  /// transactions.
  void update_settings(std::shared_ptr<const config::settings> settings);

  /// One message as received: a datagram, or one message framed off a TCP stream. Parsed in
  /// place (the bytes are modified).
  void on_message(char* data, std::size_t size, const peer& from, const instant& now,
                  gate_output& out);
  /// The answer to check `id`. A transaction that was cancelled or timed out ignores it.
  void on_answer(std::uint64_t id, const voice_answer& answer, const instant& now,
                 gate_output& out);
  /// Runs every timer due at `now`. Calling it early is harmless.
  void on_timer(const instant& now, gate_output& out);
  /// When on_timer next has something to do; nullopt when nothing is pending.
  std::optional<std::chrono::steady_clock::time_point> next_deadline();

  std::size_t transactions() const noexcept { return txns_.size(); }
  std::size_t pending_checks() const noexcept { return checks_.size(); }
  const gate_counters& counters() const noexcept { return counters_; }

 private:
  using time_point = std::chrono::steady_clock::time_point;
  enum class state : std::uint8_t { proceeding, completed, confirmed };
  struct txn {
    bool invite = false;
    state st = state::proceeding;
    peer dest;
    std::string echo;         // headers copied into every response
    std::string provisional;  // the 100 Trying, once sent
    std::string final_bytes;
    std::uint64_t check_id = 0;
    invite_plan plan;
    time_point trying_at = time_point::max();
    time_point check_deadline = time_point::max();
    time_point retransmit_at = time_point::max();
    time_point expire_at = time_point::max();
    std::chrono::milliseconds interval{0};
    std::uint64_t gen = 0;
    time_point next() const noexcept;
  };
  struct timer_entry {
    time_point at;
    std::uint64_t gen;
    std::string key;
    bool operator>(const timer_entry& o) const noexcept { return at > o.at; }
  };

  void on_request(const message& m, const peer& from, const instant& now, gate_output& out);
  void respond_stateless(const message& m, const peer& from, int status, std::string_view phrase,
                         const response_extras& x, gate_output& out);
  /// A new transaction answered at once with a final response.
  void complete_new(std::string key, const message& m, const peer& from, int status,
                    const response_extras& x, const instant& now, gate_output& out);
  /// Sends the final response of a transaction and starts its Completed timers.
  void finish(txn& t, std::string bytes, const instant& now, gate_output& out);
  void answer_invite(txn& t, const voice_answer& a, const instant& now, gate_output& out);
  void schedule(const std::string& key, txn& t);
  void erase(std::unordered_map<std::string, txn>::iterator it);
  std::string next_tag();

  std::shared_ptr<const config::settings> settings_;
  std::unordered_map<std::string, txn> txns_;
  std::unordered_map<std::uint64_t, std::string> checks_;  // check id -> transaction key
  std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>> timers_;
  std::uint64_t next_check_ = 1;
  std::uint64_t next_gen_ = 1;
  std::uint64_t tag_seed_;
  std::uint64_t tag_counter_ = 0;
  gate_counters counters_;
};

}  // namespace stopgate::gateway::dialer::sip
