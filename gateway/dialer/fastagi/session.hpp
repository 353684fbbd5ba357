// One FastAGI session (Asterisk's AGI over TCP, as res_agi speaks it) as a sans-I/O state
// machine: lines in, a check to run and command lines to write out.
//
//   Asterisk                                 stopgate
//   agi_network: yes                     |
//   agi_network_script: check            |  the agi_* block, then a blank line
//   agi_request: agi://host:4573/check   |
//   agi_uniqueid: 1700000000.42 ...      |
//   agi_arg_1: +14155550123 ...          |
//                                           (the check runs and is committed)
//                                           SET VARIABLE STOPGATE_DECISION "deny"
//   200 result=1                            SET VARIABLE STOPGATE_REASONS "optout"
//   200 result=1                            SET VARIABLE STOPGATE_RETRY_AT ""
//   200 result=1                            SET VARIABLE STOPGATE_EVIDENCE_ID "gw1-42"
//   200 result=1                            (closes: the dialplan goes on)
//
// Arguments, after the script path: the number, then the sender, purpose, tech and campaign
// by position, or any of them as key=value (to=, sender=, purpose=, tech=, campaign=), also
// accepted as a query on the script path (check?tech=manual). A HANGUP line (the channel hung
// up) stops the session after the reply to the command in flight. Anything else unexpected,
// or a reply other than 200, is logged and the session closes; a request that cannot be
// checked (no number, an unknown script, a bad argument) is answered with a deny so that the
// documented dialplan blocks the call. Not thread-safe (one per connection).
#pragma once

#include "config/dialer_settings.hpp"
#include "gateway/dialer/voice_checker.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::gateway::dialer::fastagi {

/// What the session needs from the configuration.
struct session_options {
  std::string script = "check";
  config::dialer_check_defaults defaults;
};

/// What one call into the session asks the shell to do.
struct session_output {
  std::string write;                 // bytes to send (one command line at most)
  std::optional<voice_check> check;  // run this check, then call on_answer()
  bool close = false;                // close the connection (after writing `write`)
  std::string problem;               // why the session ended early, for the log ("" when fine)
  void clear() {
    write.clear();
    check.reset();
    close = false;
    problem.clear();
  }
};

class session {
 public:
  enum class phase { environment, checking, commanding, done };
  static constexpr std::size_t max_environment_lines = 256;

  explicit session(session_options options);

  /// One line from Asterisk, without its line end.
  void on_line(std::string_view line, session_output& out);
  /// The answer to the check asked for.
  void on_answer(const voice_answer& a, session_output& out);
  /// Asterisk closed the connection.
  void on_end_of_input(session_output& out);

  phase current() const noexcept { return phase_; }
  bool hung_up() const noexcept { return hung_up_; }
  /// The channel's unique id (agi_uniqueid), once read.
  const std::string& uniqueid() const noexcept { return uniqueid_; }

 private:
  void end_of_environment(session_output& out);
  void fail(std::string problem, session_output& out);
  void send_next(session_output& out);

  session_options options_;
  phase phase_ = phase::environment;
  std::size_t lines_ = 0;
  bool hung_up_ = false;
  std::string script_;
  std::string uniqueid_;
  std::vector<std::string> args_;  // agi_arg_1 ...
  std::vector<std::string> commands_;
  std::size_t next_command_ = 0;
};

/// A SET VARIABLE command line (with its "\n") whose value Asterisk's argument parser reads
/// back exactly: double-quoted, with '"' and '\' escaped; line breaks dropped.
std::string set_variable(std::string_view name, std::string_view value);

}  // namespace stopgate::gateway::dialer::fastagi
