// The stopgate daemon as one object: start-up in dependency order, SIGHUP reloads, and a
// bounded graceful stop (SPEC section 1).
//
// Start: data dir -> managed Redis (if redis.url = managed) -> evidence log (recovers a torn
// tail) -> policy engine (tz data) -> worker threads, each with its Redis connection and
// contact store -> DNC list mirror (worker 0) -> socket API listeners -> signals.
// Stop (SIGTERM/SIGINT): stop accepting, let in-flight requests finish within
// server.shutdown_grace_ms, stop the workers, close the evidence log (final checkpoint),
// stop a managed Redis.
#pragma once

#include "carriers/relay/carrier_states.hpp"
#include "config/load.hpp"
#include "dnc/lists/mirror.hpp"
#include "dnc/policy/engine.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/queue/scheduler.hpp"
#include "gateway/queue/store.hpp"
#include "gateway/send/status_hooks.hpp"
#include "gateway/services.hpp"
#include "gateway/worker.hpp"
#include "redis/managed_server.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stopgate::gateway {

namespace api {
class api_server;
}
namespace http {
class http_server;
}
class ops;
namespace dialer {
class servers;
}
namespace webhooks {
class service;
}

class app {
 public:
  /// config_path empty: embedded defaults (a reload re-reads nothing).
  app(config::settings_ptr settings, std::filesystem::path config_path);
  ~app();

  /// Starts everything and blocks until SIGTERM/SIGINT (or stop()). Returns the exit code.
  int run();
  /// Asks a running app to stop (thread-safe), as SIGTERM does.
  void stop();
  /// Re-reads the config file; an invalid file is refused (logged) and the old one stays.
  /// Thread-safe. Returns false when refused.
  bool reload();

  std::shared_ptr<const runtime_config> current() const { return runtime_.load(); }

  /// Every /metrics family (ops, socket API, Redis links, carriers, webhooks, and the HTTP
  /// server's own are added by the server). Until start-up has created every part, only the
  /// ops' families. Thread-safe while the app runs.
  std::vector<http::metric_family> metric_families() const;
  /// What GET /metrics serves: metric_families() plus the HTTP server's own (for `stats`).
  std::vector<http::metric_family> all_metric_families() const;

 private:
  bool start(std::string& why);
  bool apply_reload();
  void shutdown();
  void retention_loop();
  http::readiness readiness() const;
  /// One condition of readiness: "redis", "contact_store", "evidence", "list:NAME"; the
  /// detail says what is wrong, for the log.
  struct readiness_condition {
    std::string name;
    bool ok = true;
    std::string detail;
  };
  std::vector<readiness_condition> readiness_conditions() const;
  /// Once a second: logs each change of readiness (what is missing, what is back).
  void readiness_loop();
  void init_contacts();
  bool install_contacts(const std::string& secret, bool threads_running);
  /// After a data loss: stores this gateway's pseudonym key in Redis again if it is missing.
  /// False when Redis did not answer (tried again).
  bool restore_contact_secret();
  /// After the pseudonym key was read: whether this gateway found Redis empty (it created the
  /// key) while its evidence log already held records; then its caches start in data loss.
  void note_fresh_redis(bool created_key);

  std::filesystem::path config_path_;
  std::atomic<std::shared_ptr<const runtime_config>> runtime_;
  std::unique_ptr<redis::managed_server> managed_;
  redis::client_options redis_options_;
  std::unique_ptr<evidence::log> evidence_;
  /// Rate limits, concurrency limits and breakers of every carrier, shared by the workers'
  /// relays; reconfigured on reload.
  std::shared_ptr<carriers::relay::carrier_states> carrier_states_ =
      std::make_shared<carriers::relay::carrier_states>();
  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<dnc::lists::list_mirror> mirror_;
  std::shared_ptr<ops> ops_;
  std::unique_ptr<api::api_server> api_;
  std::unique_ptr<http::http_server> http_;
  std::unique_ptr<webhooks::service> webhooks_;  // POST /v1/inbound/{carrier}, reply drainers
  std::unique_ptr<queue::queue_store> queue_store_;  // the durable outbound queue (docs/QUEUE.md)
  std::unique_ptr<queue::scheduler> scheduler_;      // its drain loops
  std::unique_ptr<send::status_hooks> hooks_;        // senders' signed status webhooks (worker 0)
  std::unique_ptr<dialer::servers> dialers_;     // FastAGI and the SIP gate (docs/DIALERS.md)

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::atomic<bool> contacts_ready_{false};
  std::string contact_secret_;  // set before contacts_ready_; read after it only
  std::uint64_t evidence_start_seq_ = 0;  // records in the evidence log when it was opened
  bool redis_was_emptied_ = false;        // see note_fresh_redis()
  std::atomic<bool> all_parts_started_{false};  // api_, http_, webhooks_ exist (release/acquire)
  std::thread retention_;
  std::thread readiness_watch_;
  // Reloads (SIGHUP), for /metrics.
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<std::int64_t> last_reload_success_ms_{0};  // unix ms; set at start
  std::atomic<std::uint64_t> reloads_applied_{0}, reloads_refused_{0};
  std::thread contacts_init_;
};

}  // namespace stopgate::gateway
