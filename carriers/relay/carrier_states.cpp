#include "carriers/relay/carrier_states.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace stopgate::carriers::relay {

namespace {

std::shared_ptr<outbox> outbox_for(const config::carrier_settings& s) {
  if (s.type != config::carrier_type::sandbox) return nullptr;
  return std::make_shared<outbox>(s.creds<config::sandbox_credentials>().outbox);
}

}  // namespace

carrier_state::carrier_state(const config::carrier_settings& s, clock::time_point now)
    : name_(s.name),
      type_(s.type),
      max_in_flight_(std::max<std::uint32_t>(s.max_in_flight, 1)),
      bucket_(s.rate_per_second, s.rate_per_second, now),
      breaker_(s.circuit_failure_threshold, std::chrono::milliseconds(s.circuit_open_ms)),
      outbox_(outbox_for(s)) {
  counts_.carrier = name_;
}

void carrier_state::update(const config::carrier_settings& s) {
  std::vector<std::shared_ptr<slot_waiter>> woken;
  {
    std::lock_guard lock(mu_);
    max_in_flight_ = std::max<std::uint32_t>(s.max_in_flight, 1);
    bucket_.set_rate(s.rate_per_second, s.rate_per_second);
    breaker_.configure(s.circuit_failure_threshold, std::chrono::milliseconds(s.circuit_open_ms));
    if (outbox_ && outbox_->path() != s.creds<config::sandbox_credentials>().outbox)
      outbox_ = outbox_for(s);
    wake_locked(woken);
  }
  wake(woken);
}

bool carrier_state::try_enter_circuit(clock::time_point now) {
  std::lock_guard lock(mu_);
  if (breaker_.try_acquire(now)) return true;
  ++counts_.skipped_open;
  return false;
}

std::optional<carrier_state::clock::duration> carrier_state::reserve_token(
    clock::time_point now, clock::duration max_wait) {
  std::lock_guard lock(mu_);
  return bucket_.reserve(now, max_wait);
}

bool carrier_state::try_acquire_slot() {
  std::lock_guard lock(mu_);
  // Queued waiters go first, so a newcomer cannot overtake them.
  if (!waiters_.empty() || in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  return true;
}

bool carrier_state::acquire_or_enqueue(const std::shared_ptr<slot_waiter>& w) {
  std::lock_guard lock(mu_);
  if (waiters_.empty() && in_flight_ < max_in_flight_) {
    ++in_flight_;
    return true;
  }
  waiters_.push_back(w);
  return false;
}

bool carrier_state::finish_wait(const std::shared_ptr<slot_waiter>& w) {
  std::lock_guard lock(mu_);
  if (w->granted) return true;
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it != waiters_.end()) waiters_.erase(it);
  return false;
}

void carrier_state::withdraw(const std::shared_ptr<slot_waiter>& w) { finish_wait(w); }

void carrier_state::release_slot() {
  std::vector<std::shared_ptr<slot_waiter>> woken;
  {
    std::lock_guard lock(mu_);
    if (in_flight_ > 0) --in_flight_;
    wake_locked(woken);
  }
  wake(woken);
}

void carrier_state::wake_locked(std::vector<std::shared_ptr<slot_waiter>>& woken) {
  while (!waiters_.empty() && in_flight_ < max_in_flight_) {
    auto w = std::move(waiters_.front());
    waiters_.pop_front();
    w->granted = true;
    ++in_flight_;
    woken.push_back(std::move(w));
  }
}

void carrier_state::wake(std::vector<std::shared_ptr<slot_waiter>>& woken) {
  // The timer belongs to the waiter's thread: cancel it there, outside our mutex.
  for (auto& w : woken) {
    auto ex = w->timer.get_executor();
    boost::asio::post(ex, [w = std::move(w)] { w->timer.cancel(); });
  }
}

void carrier_state::finish_call(call_result r, bool breaker_failure, clock::duration latency,
                                clock::time_point now) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  switch (r) {
    case call_result::accepted: ++counts_.accepted; break;
    case call_result::retryable: ++counts_.retryable; break;
    case call_result::permanent: ++counts_.permanent; break;
    case call_result::opted_out: ++counts_.opted_out; break;
  }
  if (breaker_failure)
    breaker_.on_failure(now);
  else
    breaker_.on_success();
  const auto it = std::lower_bound(latency_bounds.begin(), latency_bounds.end(), seconds);
  ++latency_hits_[static_cast<std::size_t>(it - latency_bounds.begin())];
  counts_.latency_sum += seconds;
  ++counts_.latency_count;
}

void carrier_state::abandon() {
  std::lock_guard lock(mu_);
  breaker_.on_abandon();
}

void carrier_state::abandon_limited() {
  std::lock_guard lock(mu_);
  breaker_.on_abandon();
  ++counts_.limited;
}

std::shared_ptr<outbox> carrier_state::outbox_file() const {
  std::lock_guard lock(mu_);
  return outbox_;
}

carrier_counters carrier_state::counters(clock::time_point now) const {
  std::lock_guard lock(mu_);
  carrier_counters c = counts_;
  c.in_flight = in_flight_;
  c.circuit = breaker_.state(now);
  c.circuit_open = c.circuit == circuit_state::open;
  c.latency_buckets.clear();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
    cumulative += latency_hits_[i];
    c.latency_buckets.emplace_back(latency_bounds[i], cumulative);
  }
  return c;
}

carrier_states::carrier_states() : carriers_(std::make_shared<const map>()) {}
carrier_states::~carrier_states() = default;

void carrier_states::configure(const config::settings& s) {
  const auto now = carrier_state::clock::now();
  std::lock_guard lock(mu_);
  auto next = std::make_shared<map>();
  for (const auto& c : s.carriers) {
    auto it = carriers_->find(c.name);
    if (it != carriers_->end() && it->second->type() == c.type) {
      it->second->update(c);
      next->emplace(c.name, it->second);
    } else {
      next->emplace(c.name, std::make_shared<carrier_state>(c, now));
    }
  }
  carriers_ = std::move(next);
}

std::shared_ptr<carrier_state> carrier_states::get(const config::carrier_settings& s) const {
  {
    std::lock_guard lock(mu_);
    auto it = carriers_->find(s.name);
    if (it != carriers_->end() && it->second->type() == s.type) return it->second;
  }
  return std::make_shared<carrier_state>(s, carrier_state::clock::now());
}

std::vector<carrier_counters> carrier_states::counters() const {
  std::shared_ptr<const map> m;
  {
    std::lock_guard lock(mu_);
    m = carriers_;
  }
  const auto now = carrier_state::clock::now();
  std::vector<carrier_counters> out;
  out.reserve(m->size());
  for (const auto& [name, st] : *m) out.push_back(st->counters(now));
  return out;
}

}  // namespace stopgate::carriers::relay
