#include "gateway/dialer/fastagi/session.hpp"

#include <charconv>

namespace stopgate::gateway::dialer::fastagi {
namespace {

bool is_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(char(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);  // '+' stays: it starts E.164 numbers
  }
  return out;
}

bool set_field(voice_check& q, std::string_view key, std::string value, std::string& problem) {
  if (key == "to") {
    q.to = std::move(value);
  } else if (key == "sender") {
    if (!value.empty()) q.sender = std::move(value);
  } else if (key == "campaign") {
    if (!value.empty()) q.campaign = std::move(value);
  } else if (key == "purpose") {
    if (value == "marketing")
      q.call_purpose = config::purpose::marketing;
    else if (value == "informational")
      q.call_purpose = config::purpose::informational;
    else if (!value.empty())
      return problem = "purpose must be marketing or informational", false;
  } else if (key == "tech") {
    if (value == "manual")
      q.tech = config::voice_tech::manual;
    else if (value == "atds")
      q.tech = config::voice_tech::atds;
    else if (value == "prerecorded")
      q.tech = config::voice_tech::prerecorded;
    else if (!value.empty())
      return problem = "tech must be manual, atds or prerecorded", false;
  } else {
    problem = "unknown argument ";
    problem.append(key.substr(0, 32));
    return false;
  }
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(',');
    out.append(s);
  }
  return out;
}

}  // namespace

std::string set_variable(std::string_view name, std::string_view value) {
  std::string out = "SET VARIABLE ";
  out.append(name).append(" \"");
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.append("\"\n");
  return out;
}

session::session(session_options options) : options_(std::move(options)) {}

void session::fail(std::string problem, session_output& out) {
  phase_ = phase::done;
  out.close = true;
  out.problem = std::move(problem);
}

void session::on_line(std::string_view line, session_output& out) {
  switch (phase_) {
    case phase::environment: {
      if (line.empty()) return end_of_environment(out);
      if (line == "HANGUP") {
        hung_up_ = true;
        phase_ = phase::done;
        out.close = true;
        return;
      }
      if (++lines_ > max_environment_lines)
        return fail("more than 256 lines in the agi_* block", out);
      std::size_t colon = line.find(':');
      std::string_view key = line.substr(0, colon);
      bool ok = colon != std::string_view::npos && key.starts_with("agi_") && key.size() <= 64;
      for (char c : key) ok = ok && is_key_char(c);
      if (!ok) return fail("malformed line in the agi_* block", out);
      std::string_view value = line.substr(colon + 1);
      if (value.starts_with(' ')) value.remove_prefix(1);
      if (key == "agi_network_script") {
        script_ = std::string(value);
      } else if (key == "agi_uniqueid") {
        uniqueid_ = std::string(value);
      } else if (key.starts_with("agi_arg_")) {
        unsigned n = 0;
        auto digits = key.substr(8);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || p != digits.data() + digits.size() || n == 0 || n > 64)
          return fail("malformed agi_arg_N line", out);
        if (args_.size() < n) args_.resize(n);
        args_[n - 1] = std::string(value);
      }
      return;
    }
    case phase::checking:
      if (line == "HANGUP") {
        hung_up_ = true;
        return;
      }
      return fail("unexpected line while the check runs", out);
    case phase::commanding:
      if (line == "HANGUP") {
        // The reply to the command in flight still comes; after it, nothing more is sent.
        hung_up_ = true;
        return;
      }
      if (line == "200" || line.starts_with("200 ")) {
        if (hung_up_) {
          phase_ = phase::done;
          out.close = true;
          return;
        }
        return send_next(out);
      }
      return fail("Asterisk refused a command: " + std::string(line.substr(0, 120)), out);
    case phase::done:
      out.close = true;
      return;
  }
}

void session::end_of_environment(session_output& out) {
  voice_check q;
  q.sender = options_.defaults.sender;
  q.campaign = options_.defaults.campaign;
  q.call_purpose = options_.defaults.call_purpose;
  q.tech = options_.defaults.tech;
  q.ref = uniqueid_;
  q.source = check_source::fastagi;

  std::string problem;
  std::string_view script = script_;
  while (script.starts_with('/')) script.remove_prefix(1);
  std::string_view query;
  if (auto qm = script.find('?'); qm != std::string_view::npos) {
    query = script.substr(qm + 1);
    script = script.substr(0, qm);
  }
  bool ok = script == options_.script;
  if (!ok) problem = "unknown script \"" + std::string(script.substr(0, 64)) + "\"";
  static constexpr std::string_view positional[] = {"to", "sender", "purpose", "tech", "campaign"};
  for (std::size_t i = 0; ok && i < args_.size(); ++i) {
    const std::string& a = args_[i];
    auto eq = a.find('=');
    if (eq != std::string::npos && i > 0) {
      ok = set_field(q, std::string_view(a).substr(0, eq), a.substr(eq + 1), problem);
    } else if (i < std::size(positional)) {
      ok = set_field(q, positional[i], a, problem);
    } else if (!a.empty()) {
      ok = false;
      problem = "too many arguments";
    }
  }
  while (ok && !query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query = pair.size() < query.size() ? query.substr(pair.size() + 1) : std::string_view{};
    auto eq = pair.find('=');
    if (pair.empty()) continue;
    ok = set_field(
        q, percent_decode(pair.substr(0, eq)),
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)),
        problem);
  }
  if (ok && q.to.empty()) {
    ok = false;
    problem = "no number to check (AGI(agi://HOST/" + options_.script + ",NUMBER,...))";
  }
  if (!ok) {
    // Answer with a deny so that the dialplan blocks the call, and say why in the log.
    out.problem = std::move(problem);
    phase_ = phase::checking;
    voice_answer a = voice_answer::failed("bad_request");
    on_answer(a, out);
    return;
  }
  phase_ = phase::checking;
  out.check = std::move(q);
}

void session::on_answer(const voice_answer& a, session_output& out) {
  if (phase_ != phase::checking) return;
  if (hung_up_) {
    // The channel is gone: the decision is recorded, there is no one to tell.
    phase_ = phase::done;
    out.close = true;
    return;
  }
  commands_.clear();
  commands_.push_back(
      set_variable("STOPGATE_DECISION", to_string(a.fail_closed ? decision::deny : a.outcome)));
  commands_.push_back(set_variable("STOPGATE_REASONS", join(a.reasons)));
  commands_.push_back(set_variable("STOPGATE_RETRY_AT", a.retry_at_text));
  commands_.push_back(set_variable("STOPGATE_EVIDENCE_ID", a.evidence_id));
  next_command_ = 0;
  phase_ = phase::commanding;
  send_next(out);
}

void session::send_next(session_output& out) {
  if (next_command_ >= commands_.size()) {
    phase_ = phase::done;
    out.close = true;
    return;
  }
  out.write = commands_[next_command_++];
}

void session::on_end_of_input(session_output& out) {
  if (phase_ == phase::environment && lines_ > 0)
    out.problem = "Asterisk closed the connection inside the agi_* block";
  else if (phase_ == phase::commanding && !hung_up_)
    out.problem = "Asterisk closed the connection before the variables were set";
  phase_ = phase::done;
  out.close = true;
}

}  // namespace stopgate::gateway::dialer::fastagi
