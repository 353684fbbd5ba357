#include "gateway/dialer/sip/gate.hpp"

#include "gateway/dialer/sip/message.hpp"
#include "gateway/dialer/sip/response.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace stopgate::gateway::dialer::sip {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view magic_cookie = "z9hG4bK";
// 17.2.1: a 100 Trying unless the final response comes within 200 ms.
constexpr milliseconds trying_delay{200};

// The transaction a request belongs to (17.2.3). ACK and CANCEL are looked up under their
// INVITE's key with `as_invite`.
std::string transaction_key(const message& m, bool as_invite) {
  const via_value& v = m.vias().front();
  std::string_view method =
      as_invite || m.method() == "ACK" ? std::string_view("INVITE") : m.method();
  std::string key;
  if (v.branch.starts_with(magic_cookie)) {
    key.reserve(v.branch.size() + v.sent_by.size() + method.size() + 2);
    key.append(v.branch).push_back('\x1f');
    key.append(v.sent_by).push_back('\x1f');
    key.append(method);
    return key;
  }
  // RFC 2543 peers: the request's identity stands in for the branch.
  key.append("2543\x1f").append(m.call_id()).push_back('\x1f');
  key.append(std::to_string(m.cseq().number)).push_back('\x1f');
  key.append(m.from_tag()).push_back('\x1f');
  key.append(v.text).push_back('\x1f');
  key.append(method);
  return key;
}

std::uint64_t splitmix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

gate::time_point gate::txn::next() const noexcept {
  return std::min({trying_at, check_deadline, retransmit_at, expire_at});
}

gate::gate(std::shared_ptr<const config::settings> settings, std::uint64_t tag_seed)
    : settings_(std::move(settings)), tag_seed_(tag_seed) {}

void gate::update_settings(std::shared_ptr<const config::settings> settings) {
  settings_ = std::move(settings);
}

std::string gate::next_tag() {
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t v = splitmix(tag_seed_ + ++tag_counter_);
  std::string tag = "sg";
  for (int i = 0; i < 16; ++i) tag.push_back(hex[(v >> (i * 4)) & 15]);
  return tag;
}

void gate::schedule(const std::string& key, txn& t) {
  t.gen = next_gen_++;
  const time_point at = t.next();
  if (at != time_point::max()) timers_.push({at, t.gen, key});
}

void gate::erase(std::unordered_map<std::string, txn>::iterator it) {
  if (it->second.check_id) checks_.erase(it->second.check_id);
  txns_.erase(it);
}

std::optional<std::chrono::steady_clock::time_point> gate::next_deadline() {
  // Drop entries of transactions that are gone or were rescheduled.
  while (!timers_.empty()) {
    const auto& e = timers_.top();
    auto it = txns_.find(e.key);
    if (it != txns_.end() && it->second.gen == e.gen) return e.at;
    timers_.pop();
  }
  return std::nullopt;
}

void gate::respond_stateless(const message& m, const peer& from, int status,
                             std::string_view phrase, const response_extras& x, gate_output& out) {
  std::string echo = echo_headers(m, from, status > 100 ? next_tag() : std::string());
  out.sends.push_back(
      {response_destination(m.vias().front(), from), render_response(status, phrase, echo, x)});
}

void gate::finish(txn& t, std::string bytes, const instant& now, gate_output& out) {
  const auto& s = settings_->dialer.sip;
  t.st = state::completed;
  t.final_bytes = std::move(bytes);
  t.trying_at = t.check_deadline = time_point::max();
  out.sends.push_back({t.dest, t.final_bytes});
  const milliseconds t1(s.t1_ms);
  if (t.invite) {
    // Timer G over UDP only; Timer H bounds the wait for the ACK on every transport.
    t.interval = t1;
    t.retransmit_at = t.dest.reliable() ? time_point::max() : now.mono + t1;
    t.expire_at = now.mono + 64 * t1;
  } else {
    t.retransmit_at = time_point::max();
    t.expire_at = now.mono + (t.dest.reliable() ? milliseconds(0) : 64 * t1);  // Timer J
  }
}

void gate::complete_new(std::string key, const message& m, const peer& from, int status,
                        const response_extras& x, const instant& now, gate_output& out) {
  const bool invite = m.method() == "INVITE";
  if (txns_.size() >= settings_->dialer.sip.max_transactions) {
    // No room to absorb retransmissions: answer anyway, statelessly.
    respond_stateless(m, from, status, standard_phrase(status), x, out);
    return;
  }
  auto [it, fresh] = txns_.try_emplace(std::move(key));
  if (!fresh) return;
  txn& t = it->second;
  t.invite = invite;
  t.dest = response_destination(m.vias().front(), from);
  t.echo = echo_headers(m, from, next_tag());
  finish(t, render_response(status, standard_phrase(status), t.echo, x), now, out);
  schedule(it->first, t);
}

void gate::on_message(char* data, std::size_t size, const peer& from, const instant& now,
                      gate_output& out) {
  message m;
  const parse_error e = m.parse(data, size);
  if (e == parse_error::empty) return;
  if (e != parse_error::none) {
    // 400 when a response can still be built (never to an ACK); otherwise drop (18.3 / 16.3).
    if (m.answerable() && m.method() != "ACK") {
      ++counters_.bad_requests;
      respond_stateless(m, from, 400, reason_phrase(e), {}, out);
    } else {
      ++counters_.dropped;
      spdlog::debug("sip: dropped a malformed message from {}: {}", from.to_string(),
                    reason_phrase(e));
    }
    return;
  }
  if (!m.is_request()) {
    ++counters_.dropped;  // a redirect server sends no requests, so expects no responses
    return;
  }
  on_request(m, from, now, out);
}

void gate::on_request(const message& m, const peer& from, const instant& now, gate_output& out) {
  const std::string_view method = m.method();
  if (method == "ACK") {
    auto it = txns_.find(transaction_key(m, true));
    if (it == txns_.end() || !it->second.invite) {
      ++counters_.dropped;  // an ACK for a 2xx or for a transaction already gone
      return;
    }
    txn& t = it->second;
    if (t.st == state::completed) {
      t.st = state::confirmed;
      t.retransmit_at = time_point::max();
      // Timer I: absorb ACK retransmissions for T4 over UDP.
      t.expire_at = now.mono + (t.dest.reliable() ? milliseconds(0)
                                                  : milliseconds(settings_->dialer.sip.t4_ms));
      schedule(it->first, t);
    } else {
      ++counters_.retransmissions;
    }
    return;
  }

  std::string key = transaction_key(m, false);
  if (auto it = txns_.find(key); it != txns_.end()) {
    // A retransmission: the same answer again, never a second check.
    ++counters_.retransmissions;
    txn& t = it->second;
    if (t.st == state::completed) {
      out.sends.push_back({t.dest, t.final_bytes});
    } else if (t.st == state::proceeding && t.invite) {
      if (t.provisional.empty()) t.provisional = render_response(100, "Trying", t.echo);
      t.trying_at = time_point::max();
      out.sends.push_back({t.dest, t.provisional});
      schedule(it->first, t);
    }
    return;
  }

  if (method == "CANCEL") {
    auto inv = txns_.find(transaction_key(m, true));
    if (inv == txns_.end() || !inv->second.invite) {
      complete_new(std::move(key), m, from, 481, {}, now, out);
      return;
    }
    complete_new(std::move(key), m, from, 200, {}, now, out);
    txn& t = inv->second;
    if (t.st == state::proceeding) {
      // 9.2: the INVITE ends with 487; the check's answer, when it comes, is ignored.
      ++counters_.cancelled;
      if (t.check_id) checks_.erase(std::exchange(t.check_id, 0));
      finish(t, render_response(487, "Request Terminated", t.echo), now, out);
      schedule(inv->first, t);
    }
    return;
  }
  // Requests inside a dialog: the gate never creates dialogs.
  if (!m.to_tag().empty()) {
    complete_new(std::move(key), m, from, 481, {}, now, out);
    return;
  }
  if (method == "OPTIONS") {
    response_extras x;
    x.allow = true;
    complete_new(std::move(key), m, from, 200, x, now, out);
    return;
  }
  if (method == "BYE") {
    complete_new(std::move(key), m, from, 481, {}, now, out);
    return;
  }
  if (method != "INVITE") {
    response_extras x;
    x.allow = true;
    complete_new(std::move(key), m, from, 405, x, now, out);
    return;
  }

  const auto& s = settings_->dialer.sip;
  if (txns_.size() >= s.max_transactions) {
    ++counters_.overloaded;
    response_extras x;
    x.retry_after = 1;
    respond_stateless(m, from, 503, standard_phrase(503), x, out);
    return;
  }
  auto planned = plan_invite(m, from, s);
  if (auto* r = std::get_if<refusal>(&planned)) {
    ++counters_.refused;
    std::string reason =
        r->reason_text.empty() ? std::string() : reason_value(r->status, r->reason_text);
    response_extras x;
    x.reason = reason;
    x.unsupported = r->unsupported;
    complete_new(std::move(key), m, from, r->status, x, now, out);
    return;
  }
  ++counters_.invites;
  auto [it, fresh] = txns_.try_emplace(std::move(key));
  txn& t = it->second;
  t.invite = true;
  t.st = state::proceeding;
  t.dest = response_destination(m.vias().front(), from);
  t.echo = echo_headers(m, from, next_tag());
  t.plan = std::move(std::get<invite_plan>(planned));
  t.check_id = next_check_++;
  t.trying_at = now.mono + trying_delay;
  t.check_deadline = now.mono + milliseconds(s.check_timeout_ms);
  checks_.emplace(t.check_id, it->first);
  out.checks.push_back({t.check_id, t.plan.check});
  schedule(it->first, t);
}

void gate::answer_invite(txn& t, const voice_answer& a, const instant& now, gate_output& out) {
  const auto& s = settings_->dialer.sip;
  final_response r = map_answer(a, t.plan, s, now.wall);
  ++(r.status == 302   ? counters_.redirected
     : r.status == 480 ? counters_.deferred
                       : counters_.denied);
  response_extras x;
  x.contact = r.contact;
  x.reason = r.reason;
  x.retry_after = r.retry_after;
  finish(t, render_response(r.status, standard_phrase(r.status), t.echo, x), now, out);
}

void gate::on_answer(std::uint64_t id, const voice_answer& answer, const instant& now,
                     gate_output& out) {
  auto c = checks_.find(id);
  if (c == checks_.end()) return;
  auto it = txns_.find(c->second);
  checks_.erase(c);
  if (it == txns_.end()) return;
  txn& t = it->second;
  t.check_id = 0;
  if (t.st != state::proceeding) return;
  answer_invite(t, answer, now, out);
  schedule(it->first, t);
}

void gate::on_timer(const instant& now, gate_output& out) {
  const auto& s = settings_->dialer.sip;
  while (!timers_.empty() && timers_.top().at <= now.mono) {
    timer_entry e = timers_.top();
    timers_.pop();
    auto it = txns_.find(e.key);
    if (it == txns_.end() || it->second.gen != e.gen) continue;
    txn& t = it->second;
    if (t.expire_at <= now.mono) {
      if (t.invite && t.st == state::completed) ++counters_.ack_timeouts;
      erase(it);
      continue;
    }
    if (t.st == state::proceeding) {
      if (t.check_deadline <= now.mono) {
        // The check did not answer in time: fail closed, and ignore its late answer.
        ++counters_.check_timeouts;
        if (t.check_id) checks_.erase(std::exchange(t.check_id, 0));
        answer_invite(t, voice_answer::failed("check_timeout"), now, out);
      } else if (t.trying_at <= now.mono) {
        t.provisional = render_response(100, "Trying", t.echo);
        t.trying_at = time_point::max();
        out.sends.push_back({t.dest, t.provisional});
      }
    } else if (t.st == state::completed && t.retransmit_at <= now.mono) {
      out.sends.push_back({t.dest, t.final_bytes});
      t.interval = std::min(2 * t.interval, milliseconds(s.t2_ms));
      t.retransmit_at = now.mono + t.interval;
    }
    schedule(it->first, t);
  }
}

}  // namespace stopgate::gateway::dialer::sip
