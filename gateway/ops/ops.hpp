// The socket API's operations (SPEC section 3; docs/API.md): check, send, consent, optout,
// optin, lookup, forget, stats. One file per op family in this folder (check.cpp,
// consent.cpp, optout.cpp, lookup.cpp, forget.cpp, stats.cpp; dispatch.cpp routes by the op
// table's id; support.hpp holds the field decoder and helpers they share; send lives in
// gateway/send/). Each op parses its fields into typed values, asks the contact store (one
// pipeline per batch) and the in-process list snapshot, runs the policy engine, and writes its
// evidence (durable before the answer) — docs/dev/ARCHITECTURE.md has the flows.
#pragma once

#include "dnc/lists/mirror.hpp"
#include "gateway/api/batch.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/prometheus.hpp"
#include "gateway/services.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

namespace stopgate::gateway {

namespace send {
class send_handler;
}

/// Counters for `stats` and /metrics. Thread-safe.
struct op_counters {
  std::atomic<std::uint64_t> checks{0}, allow{0}, deny{0}, defer{0}, committed{0};
  std::atomic<std::uint64_t> consents{0}, optouts{0}, optins{0}, lookups{0}, forgets{0};
  std::atomic<std::uint64_t> store_failures{0}, evidence_failures{0};
  /// Decisions by reason code (the part before ':' for state_dnc:XX and registry_dnc:NAME).
  static constexpr std::array<std::string_view, 14> reason_names = {
      "invalid_number", "optout", "internal_dnc", "litigator", "no_consent", "federal_dnc",
      "state_dnc", "canada_dncl", "registry_dnc", "dnc_data_stale", "restricted_day",
      "quiet_hours", "frequency_cap", "store_unavailable"};
  std::array<std::atomic<std::uint64_t>, reason_names.size() + 1> reasons{};  // last: other
  /// The slot in `reasons` of a reason code (the last one for a code not listed). Pure.
  static std::size_t reason_index(std::string_view code) noexcept;

  op_counters();
  /// Seconds from a check request's start to its answer, observed into worker `worker`'s
  /// own histogram (no cache line shared between workers).
  void observe_check_latency(unsigned worker, double seconds, std::uint64_t times = 1) noexcept;
  /// Every worker's check latency histogram, merged. Thread-safe.
  http::histogram_snapshot check_latency() const;

 private:
  // One per worker index (modulo the size).
  static constexpr std::size_t latency_shards = 16;
  std::array<std::unique_ptr<http::histogram>, latency_shards> check_latency_;
};

class ops final : public api::dispatcher, public api::batch_handler {
 public:
  /// `svc.log`, `svc.mirror` and `svc.runtime` must be set; the workers' parts are used on
  /// the worker a request names.
  explicit ops(services svc);
  ~ops() override;

  boost::asio::awaitable<api::op_result> async_handle(std::string_view op,
                                                      const boost::json::object& req,
                                                      const api::request_context& ctx) override;
  std::optional<api::op_spec> find_op(std::string_view op) const override;
  /// Uncommitted checks: those of one socket read share one contact fetch.
  bool batchable(std::string_view op, const api::op_def* def,
                 const boost::json::object& req) const override;
  /// Writes each answer as text into `text` (api::written_fields).
  boost::asio::awaitable<void> async_handle_batch(std::span<api::batch_entry> entries, std::string& text) override;

  const op_counters& counters() const noexcept { return counters_; }
  send::send_handler& sending() noexcept { return *send_; }
  /// Families for /metrics: decisions by outcome and reason, ops, failures, check latency.
  std::vector<http::metric_family> metric_families() const;

 private:
  boost::asio::awaitable<api::op_result> check(const boost::json::object& req, const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> consent(const boost::json::object& req, bool optin,
                                                 const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> optout(const boost::json::object& req, const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> lookup(const boost::json::object& req, const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> forget(const boost::json::object& req, const api::request_context& ctx);
  api::op_result stats() const;
  boost::asio::awaitable<api::op_result> campaign(const boost::json::object& req, const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> queue_stats(const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> events(const boost::json::object& req, const api::request_context& ctx);
  /// The contact store of the request's worker; null until it is set up.
  dnc::contacts::contact_store* store(const api::request_context& ctx) const;

  services svc_;
  evidence::log& log_;
  dnc::lists::list_mirror& mirror_;
  op_counters counters_;
  std::unique_ptr<send::send_handler> send_;  // gateway/send/send_op.hpp
};

}  // namespace stopgate::gateway
