// The inbound webhooks' counters for /metrics. Every method is thread-safe (inbound traffic
// is small next to checks, so a mutex over a map is enough for the per-carrier ones).
#pragma once

#include "gateway/http/prometheus.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::gateway::webhooks {

class counters {
 public:
  /// One webhook answered, by carrier config name and outcome: a keyword class (opt_out,
  /// opt_out_all, opt_in, help, other), or duplicate, ignored, malformed, unavailable,
  /// in_progress.
  void inbound(std::string_view carrier, std::string_view outcome);
  void signature_failure(std::string_view carrier);
  /// A reply's fate, by kind (optout, help, optin) and result (sent, failed, expired, unknown,
  /// suppressed, dropped).
  void reply(std::string_view kind, std::string_view result);
  /// A forward of an `other` message: ok or failed.
  void forward(bool ok) {
    (ok ? forwards_ok_ : forwards_failed_).fetch_add(1, std::memory_order_relaxed);
  }
  void set_queue_depth(std::int64_t d) { depth_.store(d, std::memory_order_relaxed); }

  std::uint64_t inbound_count(std::string_view carrier, std::string_view outcome) const;
  std::uint64_t reply_count(std::string_view kind, std::string_view result) const;
  std::uint64_t signature_count(std::string_view carrier) const;

  std::vector<http::metric_family> families() const;

 private:
  using key = std::pair<std::string, std::string>;
  mutable std::mutex mu_;
  std::map<key, std::uint64_t> inbound_;
  std::map<std::string, std::uint64_t> signature_;
  std::map<key, std::uint64_t> replies_;
  std::atomic<std::uint64_t> forwards_ok_{0}, forwards_failed_{0};
  std::atomic<std::int64_t> depth_{0};
};

}  // namespace stopgate::gateway::webhooks
