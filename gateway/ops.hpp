// The socket API's operations (SPEC section 3): check, consent, optout, optin, lookup,
// forget, stats. Each op parses its fields into typed values, asks the contact store (one
// pipeline per batch) and the in-process list snapshot, runs the policy engine, and writes
// its evidence (durable before the answer) — docs/ARCHITECTURE.md has the flows.
#pragma once

#include "dnc/list_mirror.hpp"
#include "gateway/api/dispatcher.hpp"
#include "gateway/evidence/log.hpp"

#include <atomic>
#include <cstdint>

namespace stopgate::gateway {

class app;

/// Counters for `stats` and /metrics. Thread-safe.
struct op_counters {
  std::atomic<std::uint64_t> checks{0}, allow{0}, deny{0}, defer{0}, committed{0};
  std::atomic<std::uint64_t> consents{0}, optouts{0}, optins{0}, lookups{0}, forgets{0};
  std::atomic<std::uint64_t> store_failures{0}, evidence_failures{0};
};

class ops final : public api::dispatcher {
 public:
  ops(app& a, evidence::log& log, dnc::list_mirror& mirror);

  boost::asio::awaitable<api::op_result> async_handle(std::string_view op,
                                                      const boost::json::object& req,
                                                      const api::request_context& ctx) override;
  std::optional<api::op_spec> find_op(std::string_view op) const override;

  const op_counters& counters() const noexcept { return counters_; }

 private:
  boost::asio::awaitable<api::op_result> check(const boost::json::object& req, const api::request_context& ctx);
  boost::asio::awaitable<api::op_result> consent(const boost::json::object& req, bool optin);
  boost::asio::awaitable<api::op_result> optout(const boost::json::object& req);
  boost::asio::awaitable<api::op_result> lookup(const boost::json::object& req);
  boost::asio::awaitable<api::op_result> forget(const boost::json::object& req);
  api::op_result stats() const;

  app& app_;
  evidence::log& log_;
  dnc::list_mirror& mirror_;
  op_counters counters_;
};

}  // namespace stopgate::gateway
