#include "gateway/app.hpp"

#include "config/version.hpp"
#include "gateway/api/server.hpp"
#include "gateway/contact_secret.hpp"
#include "gateway/dialer/servers.hpp"
#include "gateway/dialer_checker.hpp"
#include "gateway/http/server.hpp"
#include "gateway/evidence_setup.hpp"
#include "gateway/ops/ops.hpp"
#include "gateway/process_metrics.hpp"
#include "gateway/replica_acks.hpp"
#include "gateway/send/send_op.hpp"
#include "gateway/send/status_route.hpp"
#include "gateway/webhooks/relay_sender.hpp"
#include "gateway/webhooks/service.hpp"
#include "dnc/policy/engine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <spdlog/spdlog.h>

#include <sys/statvfs.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <thread>

namespace stopgate::gateway {
namespace {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace asio = boost::asio;

// Per-carrier relay families for /metrics (docs/RELAY.md, "Metrics").
void append_carrier_families(std::vector<http::metric_family>& families,
                             const std::vector<carriers::relay::carrier_counters>& counters) {
  http::metric_family calls{"stopgate_carrier_calls_total",
                            "Carrier calls by result, and calls skipped (circuit open) or given up (limits).",
                            http::metric_type::counter, {}};
  http::metric_family in_flight{"stopgate_carrier_in_flight", "Carrier calls holding a concurrency slot.",
                                http::metric_type::gauge, {}};
  http::metric_family circuit{"stopgate_carrier_circuit_state",
                              "Circuit breaker per carrier: 0 closed, 1 open (calls skipped), 2 half-open.",
                              http::metric_type::gauge, {}};
  http::metric_family latency{"stopgate_carrier_call_duration_seconds",
                              "Duration of one carrier call (HTTP request or outbox append).",
                              http::metric_type::histogram, {}};
  for (const auto& c : counters) {
    const std::pair<const char*, std::uint64_t> results[] = {
        {"accepted", c.accepted},   {"retryable", c.retryable},       {"permanent", c.permanent},
        {"opted_out", c.opted_out}, {"circuit_open", c.skipped_open}, {"limited", c.limited}};
    for (const auto& [result, n] : results)
      calls.samples.push_back({"", {{"carrier", c.carrier}, {"result", result}}, double(n)});
    in_flight.samples.push_back({"", {{"carrier", c.carrier}}, double(c.in_flight)});
    circuit.samples.push_back({"", {{"carrier", c.carrier}}, double(int(c.circuit))});
    http::histogram_snapshot h;
    for (const auto& [bound, n] : c.latency_buckets) {
      h.bounds.push_back(bound);
      h.cumulative.push_back(n);
    }
    h.cumulative.push_back(c.latency_count);
    h.sum = c.latency_sum;
    h.count = c.latency_count;
    http::append_histogram_samples(latency, h, {{"carrier", c.carrier}});
  }
  families.push_back(std::move(calls));
  families.push_back(std::move(in_flight));
  families.push_back(std::move(circuit));
  families.push_back(std::move(latency));
}

}  // namespace

app::app(config::settings_ptr settings, std::filesystem::path config_path)
    : config_path_(std::move(config_path)) {
  auto rt = std::make_shared<runtime_config>();
  rt->settings = std::move(settings);
  runtime_.store(rt);
  last_reload_success_ms_.store(unix_ms_now());
}

app::~app() {
  shutdown();
}

void app::stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

bool app::reload() {
  const bool ok = apply_reload();
  (ok ? reloads_applied_ : reloads_refused_).fetch_add(1, std::memory_order_relaxed);
  last_reload_ok_.store(ok);
  if (ok) last_reload_success_ms_.store(unix_ms_now());
  return ok;
}

bool app::apply_reload() {
  if (config_path_.empty()) {
    spdlog::info("reload: running on embedded defaults; nothing to re-read");
    return true;
  }
  auto loaded = config::load_file(config_path_);
  if (!loaded) {
    spdlog::error("reload refused, keeping the running configuration; {} has problems:\n{}",
                  config_path_.string(), loaded.error().to_string());
    return false;
  }
  auto engine = dnc::policy::policy_engine::make(*loaded);
  if (!engine) {
    spdlog::error("reload refused: policy engine: {}", engine.error().message());
    return false;
  }
  auto rt = std::make_shared<runtime_config>();
  rt->settings = *loaded;
  rt->engine = std::make_shared<const dnc::policy::policy_engine>(std::move(*engine));
  carrier_states_->configure(*rt->settings);
  runtime_.store(rt);
  if (api_) api_->update_settings(rt->settings);
  if (http_) http_->update_settings(rt->settings);
  if (dialers_) dialers_->update_settings(rt->settings);
  spdlog::info("reload: configuration {} applied (policy {})", config_path_.string(),
               rt->settings->policy.version);
  return true;
}

bool app::start(std::string& why) {
  auto rt = runtime_.load();
  const auto& s = *rt->settings;
  std::error_code fsec;
  std::filesystem::create_directories(s.server.data_dir, fsec);
  if (fsec) {
    why = "cannot create data directory " + s.server.data_dir.string() + ": " + fsec.message();
    return false;
  }

  // Redis: our own private server on the defaults, or the configured one.
  auto ep = redis::parse_url(s.redis.url);
  if (!ep) {
    why = "redis.url: " + ep.error().message();
    return false;
  }
  if (ep->type == redis::endpoint::kind::managed) {
    auto m = redis::managed_server::ensure(s.server.data_dir);
    if (!m) {
      why = "managed Redis: " + m.error().message();
      return false;
    }
    managed_ = std::move(*m);
    *ep = managed_->ep();
  }
  if (ep->password.empty() && !s.redis.password.empty()) ep->password = s.redis.password.reveal();
  if (ep->username.empty()) ep->username = s.redis.username;
  redis_options_.ep = *ep;
  redis_options_.command_timeout = std::chrono::milliseconds(s.redis.timeout_ms);
  redis_options_.connect_timeout = std::chrono::milliseconds(s.redis.connect_timeout_ms);
  redis_options_.reconnect_min = std::chrono::milliseconds(s.redis.reconnect_min_ms);
  redis_options_.reconnect_max = std::chrono::milliseconds(s.redis.reconnect_max_ms);

  // Evidence: refuses to start on a broken chain rather than writing on top of it.
  auto eo = evidence_options(s, &why);
  if (!eo) return false;
  evidence::open_report report;
  auto log = evidence::log::open(*eo, {}, &report);
  if (!log) {
    why = "evidence log " + eo->dir.string() + ": " + log.error().message();
    if (report.failure) why += " (" + report.failure->describe() + ")";
    return false;
  }
  if (report.recovered)
    spdlog::warn("evidence log: cut off a torn tail of {} bytes (a `recovered` record says so)",
                 report.cut_bytes);
  evidence_ = std::move(*log);
  evidence_start_seq_ = report.last_seq;

  auto engine = dnc::policy::policy_engine::make(rt->settings);
  if (!engine) {
    why = "policy engine: " + engine.error().message();
    return false;
  }
  auto rt2 = std::make_shared<runtime_config>(*rt);
  rt2->engine = std::make_shared<const dnc::policy::policy_engine>(std::move(*engine));
  runtime_.store(rt2);

  carrier_states_->configure(s);
  unsigned n = s.server.threads ? s.server.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<worker>();
    w->index = i;
    w->busy_poll = std::chrono::microseconds(s.server.busy_poll_us);
    w->redis = std::make_unique<redis::client>(w->io.get_executor(), redis_options_);
    asio::post(w->io, [c = w->redis.get()] { c->start(); });
    w->watch_redis();
    // Created before the thread runs and used only on it afterwards.
    // As many connections to one carrier host as the carrier lets be in flight: with a 150 ms
    // carrier, libcurl's 64 per host would cap a thread at ~430 messages/s whatever the limits.
    carriers::relay::relay_options ro;
    for (const auto& c : s.carriers)
      ro.http.max_connections_per_host =
          std::max<long>(ro.http.max_connections_per_host, long(c.max_in_flight));
    ro.http.max_idle_connections = std::max<long>(ro.http.max_idle_connections,
                                                  ro.http.max_connections_per_host);
    w->relay = std::make_unique<carriers::relay::relay>(w->io.get_executor(), carrier_states_, ro);
    workers_.push_back(std::move(w));
  }

  // The contact store needs the shared pseudonym secret from Redis. Try once now, so that a
  // gateway whose Redis is up serves its first request with the store ready; if Redis is
  // unreachable, a helper thread keeps trying and ops fail closed meanwhile.
  bool created = false;
  if (auto secret = fetch_contact_secret(redis_options_, std::chrono::milliseconds(s.redis.connect_timeout_ms), {},
                                         &created)) {
    note_fresh_redis(created);
    install_contacts(*secret, /*threads_running=*/false);
  }

  dnc::lists::list_mirror::options mo;
  mo.redis = redis_options_;
  mo.redis.command_timeout = std::chrono::seconds(30);  // bitmaps are 1.25 MB each
  mirror_ = std::make_unique<dnc::lists::list_mirror>(workers_[0]->io.get_executor(), mo);
  asio::post(workers_[0]->io, [m = mirror_.get()] { m->start(); });
  for (auto& w : workers_) w->thread = std::thread([wp = w.get()] { wp->run(); });
  // Listen only once the DNC lists are in memory (or Redis failed to answer within a few
  // seconds), so that the first checks after a restart are not failed closed as stale.
  for (int i = 0; i < 100 && mirror_->refreshes() == 0 && mirror_->failures() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  // What the ops and routes use, handed in: the shared parts and each loop's own.
  services svc;
  svc.log = evidence_.get();
  svc.mirror = mirror_.get();
  svc.runtime = [this] { return current(); };
  svc.metrics = [this] { return all_metric_families(); };
  std::vector<asio::io_context*> contexts;
  for (auto& w : workers_) {
    contexts.push_back(&w->io);
    svc.workers.push_back(w.get());
  }
  ops_ = std::make_shared<ops>(svc);
  {
    // The durable outbound queue: "mode": "queue" sends land in it, every worker drains it.
    const auto& q = rt2->settings->queue;
    queue_store_ = std::make_unique<queue::queue_store>(q.shards, q.max_messages);
    queue::scheduler_options so;
    so.poll = std::chrono::milliseconds(q.poll_ms);
    so.lease = std::chrono::milliseconds(q.lease_ms);
    so.submit_lease = std::chrono::milliseconds(q.submit_lease_ms);
    so.max_in_flight = q.max_in_flight;
    so.instance = rt2->settings->server.instance;
    scheduler_ = std::make_unique<queue::scheduler>(svc, ops_->sending(), *queue_store_, so);
    ops_->sending().enable_queue(queue_store_.get(),
                                 [s = scheduler_.get()](unsigned w) { s->wake(w); });
    scheduler_->start();
    send::status_hook_options ho;
    ho.consumer = rt2->settings->server.instance;
    ho.retry_after = std::chrono::milliseconds(q.status_webhook_retry_ms);
    hooks_ = std::make_unique<send::status_hooks>(workers_[0]->io, *workers_[0]->redis,
                                                  [this] { return current()->settings; }, ho);
    asio::post(workers_[0]->io, [h = hooks_.get()] { h->start(); });
  }
  api_ = std::make_unique<api::api_server>(contexts, rt2->settings, ops_);
  if (auto ec = api_->start(); ec) {
    why = "socket API: " + ec.message();
    return false;
  }
  http::providers provide;
  provide.ready = [this] { return readiness(); };
  provide.metrics = [this] { return metric_families(); };
  http_ = std::make_unique<http::http_server>(contexts, rt2->settings, ops_, std::move(provide));
  if (auto ec = send::add_status_route(*http_, svc, ops_->sending().status()); ec) {
    why = "HTTP: /v1/status/: " + ec.message();
    return false;
  }
  webhooks_ = std::make_unique<webhooks::service>(*evidence_, [this] { return current()->settings; },
                                                  webhooks::relay_sender(), svc.workers);
  if (auto ec = webhooks_->register_routes(*http_); ec) {
    why = "HTTP webhook routes: " + ec.message();
    return false;
  }
  webhooks_->start();
  // Call dialers: their checks are committed `check` ops (gateway/dialer_checker.cpp).
  dialers_ = std::make_unique<dialer::servers>(
      contexts, rt2->settings, std::make_shared<dialer_checker>(ops_, [this] { return current()->settings; }));
  if (auto ec = dialers_->start(why); ec) return false;
  all_parts_started_.store(true, std::memory_order_release);
  if (auto ec = http_->start(); ec) {
    why = "HTTP: " + ec.message();
    return false;
  }
  retention_ = std::thread([this] { retention_loop(); });
  readiness_watch_ = std::thread([this] { readiness_loop(); });
  if (!contacts_ready_.load()) contacts_init_ = std::thread([this] { init_contacts(); });
  spdlog::info("stopgate {} running: {} threads, redis {}, evidence {}, data {}", version(), n,
               redis_options_.ep.to_string(), eo->dir.string(), s.server.data_dir.string());
  return true;
}

namespace {
// Below this much free space the next segment or batch will not fit: report the disk as full
// before the log fails on it.
constexpr std::uint64_t evidence_min_free_bytes = 1 << 20;

std::optional<std::string> evidence_problem(const evidence::log& log) {
  if (auto ec = log.failure()) return "failed (" + ec.message() + "); restart once fixed";
  struct statvfs fs {};
  if (::statvfs(log.settings().dir.c_str(), &fs) != 0)
    return std::string("directory unreadable (") + std::strerror(errno) + ")";
  if (fs.f_flag & ST_RDONLY) return "read-only file system";
  const std::uint64_t free = std::uint64_t(fs.f_bavail) * fs.f_frsize;
  if (free < evidence_min_free_bytes) return "disk full (" + std::to_string(free) + " bytes free)";
  return std::nullopt;
}
}  // namespace

std::vector<app::readiness_condition> app::readiness_conditions() const {
  std::vector<readiness_condition> out;
  bool redis = true;
  for (auto& w : workers_) redis = redis && w->redis_up.load();
  out.push_back({"redis", redis, redis ? "" : "did not answer a PING within redis.timeout_ms"});
  const bool contacts = contacts_ready_.load();
  out.push_back({"contact_store", contacts, contacts ? "" : "not set up yet (waiting for Redis)"});
  // Opt-outs Redis lost are answered as if never given: not ready until they are restored.
  bool lost = false;
  for (auto& w : workers_) lost = lost || w->contacts_data_lost.load();
  out.push_back({"contact_data", !lost,
                 lost ? "Redis lost contact-store data (its change counter went backwards: a restart "
                        "without persistence, FLUSHALL, or a failover to a replica that missed writes); "
                        "opt-outs and consents may be missing until `stopgatectl contacts rebuild "
                        "--from-evidence` restores them from the evidence log (docs/REDIS.md)"
                      : ""});
  // Every opt-out, consent, send and STOP is recorded before it is acknowledged: a log that
  // cannot write fails them all.
  if (evidence_) {
    auto why = evidence_problem(*evidence_);
    out.push_back({"evidence", !why, why.value_or("")});
  }
  // A required registry that is missing or too old fails every marketing check closed.
  auto rt = runtime_.load();
  auto snap = mirror_ ? mirror_->current() : nullptr;
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  for (auto& l : rt->settings->lists) {
    if (l.kind != config::list_kind::registry || !l.required) continue;
    const auto* g = snap ? snap->find(l.name) : nullptr;
    std::string why;
    if (!g)
      why = "required list '" + l.name + "' is not loaded; every marketing check answers dnc_data_stale until it is (stopgatectl dnc load --list " + l.name + " FILE), or set lists." + l.name + ".required = false";
    else if (dnc::policy::list_too_old(g->meta(), l.max_age_days, now))
      why = "required list '" + l.name + "' is stale: its snapshot " + g->meta().snapshot + " is more than lists." + l.name + ".max_age_days = " + std::to_string(l.max_age_days) + " days old; every marketing check answers dnc_data_stale until a newer one is loaded";
    out.push_back({"list:" + l.name, why.empty(), why});
  }
  return out;
}

http::readiness app::readiness() const {
  // Ready: Redis answering on every worker, the contact store set up, the evidence log
  // writable, and every required list loaded and fresh (a check would otherwise fail closed).
  http::readiness r;
  for (auto& c : readiness_conditions()) {
    if (c.ok) continue;
    if (c.name == "redis") r.redis_ok = false;
    if (c.name.starts_with("list:")) r.lists_loaded = false;
    r.missing.push_back(c.name == "evidence" ? "evidence: " + c.detail : c.name);
  }
  return r;
}

void app::readiness_loop() {
  // Logs every change of readiness, so that the log says what /readyz says: what is missing
  // (the evidence log at error level: nothing can be recorded) and when it is back.
  std::map<std::string, std::string> failing;  // condition -> detail, as last logged
  bool first = true;
  bool secret_restored = false;  // since the contact data was last seen lost
  std::unique_lock lock(mu_);
  // The first look waits a moment: the workers' first PINGs are under way at start.
  while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_requested_; })) {
    lock.unlock();
    std::map<std::string, std::string> now;
    for (auto& c : readiness_conditions())
      if (!c.ok) now[c.name] = c.detail;
    if (now.count("contact_data") == 0) {
      secret_restored = false;
    } else if (!secret_restored && contacts_ready_.load()) {
      secret_restored = restore_contact_secret();
    }
    for (auto& [name, detail] : now) {
      auto it = failing.find(name);
      if (it != failing.end() && it->second == detail) continue;
      if (name == "evidence" || name == "contact_data")
        spdlog::error("not ready: {}: {}", name, detail);
      else
        spdlog::warn("not ready: {}", detail.empty() ? name : detail);
    }
    for (auto& [name, detail] : failing)
      if (!now.count(name)) spdlog::info("ready again: {}", name);
    if (now.empty() && (!failing.empty() || first)) spdlog::info("ready");
    failing = std::move(now);
    first = false;
    lock.lock();
  }
}

bool app::install_contacts(const std::string& secret, bool threads_running) {
  auto p = dnc::contacts::contact_keys::pseudonymizer::create(secret);
  if (!p) return false;
  const auto& rs = current()->settings->redis;
  auto acks = resolve_replica_acks(rs, redis_options_, std::chrono::milliseconds(rs.connect_timeout_ms));
  if (!acks) {
    spdlog::warn("contact store: could not ask Redis for its replicas ({}); trying again",
                 acks.error().message());
    return false;
  }
  spdlog::info("contact store: opt-out, opt-in and consent writes wait for {} replica ack(s){}", *acks,
               rs.min_replica_acks ? "" : " (redis.min_replica_acks = auto)");
  for (auto& w : workers_) {
    dnc::contacts::contact_store_options copts;
    copts.cache.max_bytes = std::size_t(rs.contact_cache_mb) << 20;
    copts.cache.start_lost = redis_was_emptied_;
    copts.per_slot_changes = redis_options_.ep.type == redis::endpoint::kind::cluster;
    copts.min_replica_acks = *acks;
    copts.replica_ack_timeout = std::chrono::milliseconds(rs.replica_ack_timeout_ms);
    auto make = [wp = w.get(), p = *p, copts, opts = redis_options_]() mutable {
      if (opts.ep.type == redis::endpoint::kind::cluster && copts.cache.max_bytes > 0) {
        wp->contacts_redis = std::make_unique<redis::client>(wp->io.get_executor(), opts);
        wp->contacts_redis->start();
      }
      // WAIT holds up its connection: the acknowledged writes get one of their own, so that
      // checks never queue behind a replica's acknowledgement.
      if (copts.min_replica_acks > 0) {
        // A WAIT answers after up to replica_ack_timeout: the command timeout comes on top.
        opts.command_timeout += copts.replica_ack_timeout;
        wp->acked_redis = std::make_unique<redis::client>(wp->io.get_executor(), opts);
        wp->acked_redis->start();
        wp->min_replica_acks = copts.min_replica_acks;
        wp->replica_ack_timeout = copts.replica_ack_timeout;
        copts.acked_writes = wp->acked_redis.get();
      }
      if (wp->contacts_redis) copts.untracked_reads = wp->redis.get();
      wp->contacts = std::make_unique<dnc::contacts::contact_store>(
          wp->contacts_redis ? *wp->contacts_redis : *wp->redis, p, copts);
    };
    // Once the workers run, their store is set on their own thread (it is read there).
    if (threads_running)
      asio::post(w->io, std::move(make));
    else
      make();
  }
  contact_secret_ = secret;
  contacts_ready_.store(true);
  spdlog::info("contact store ready");
  return true;
}

void app::note_fresh_redis(bool created_key) {
  // No pseudonym key in Redis, so no contact data either, while this gateway's evidence log
  // already holds records from an earlier run: Redis lost everything while no gateway was
  // there to see the change counter go back (or this is a new Redis). Either way the opt-outs
  // of the log are not in it until a rebuild.
  redis_was_emptied_ = created_key && evidence_ && evidence_start_seq_ > 0;
  if (redis_was_emptied_)
    spdlog::error("contact store: Redis held no contact data although the evidence log holds {} records; "
                  "run `stopgatectl contacts rebuild --from-evidence` (docs/REDIS.md)",
                  evidence_start_seq_);
}

bool app::restore_contact_secret() {
  // Redis lost its data, the pseudonym key with it: put ours back (SET NX), so that the keys
  // this gateway reads are the ones `stopgatectl contacts rebuild` writes. Every running
  // gateway holds the same key, so whichever puts it back first puts back the same one.
  auto held = fetch_contact_secret(redis_options_, std::chrono::seconds(1), contact_secret_);
  if (!held) return false;  // tried again next second
  if (*held != contact_secret_)
    spdlog::error(
        "contact store: Redis now holds another pseudonym key than this gateway's (a gateway started "
        "on the emptied Redis made a new one): restart this gateway so that it reads the same keys");
  else
    spdlog::warn("contact store: the pseudonym key is in Redis again; run `stopgatectl contacts rebuild "
                 "--from-evidence` to restore the opt-outs and consents Redis lost");
  return true;
}

void app::init_contacts() {
  // Until the contact store exists (Redis unreachable at start), ops fail closed with
  // store_unavailable; this keeps trying until it has the shared pseudonym secret.
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_) return;
    }
    bool created = false;
    auto secret = fetch_contact_secret(redis_options_, std::chrono::seconds(2), {}, &created);
    if (secret) {
      note_fresh_redis(created);
      if (install_contacts(*secret, /*threads_running=*/true)) return;
    } else if (attempt % 10 == 0) {
      spdlog::warn("contact store: waiting for Redis ({})", secret.error().message());
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(300), [this] { return stop_requested_; });
  }
}

void app::retention_loop() {
  // Daily, off the event loop (apply_retention blocks on fsync).
  std::unique_lock lock(mu_);
  while (!stop_requested_) {
    lock.unlock();
    if (evidence_) {
      auto r = evidence_->apply_retention();
      if (!r)
        spdlog::error("evidence retention failed: {}", r.error().message());
      else if (!r->deleted.empty())
        spdlog::info("evidence retention: deleted {} segment(s)", r->deleted.size());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::hours(24), [this] { return stop_requested_; });
  }
}

int app::run() {
  // Signals are taken synchronously by this thread; every other thread has them blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string why;
  if (!start(why)) {
    spdlog::error("cannot start: {}", why);
    shutdown();
    return 1;
  }
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_) break;
    }
    timespec ts{0, 200'000'000};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGHUP) {
      reload();
    } else if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("signal {}: stopping", sig == SIGTERM ? "TERM" : "INT");
      break;
    }
  }
  shutdown();
  return 0;
}

std::vector<http::metric_family> app::metric_families() const {
  auto families = ops_->metric_families();
  if (!all_parts_started_.load(std::memory_order_acquire)) return families;
  auto api_stats = api_->stats();
  auto one = [&](const char* name, const char* help, http::metric_type type, double v) {
    families.push_back(http::metric_family{name, help, type, {{"", {}, v}}});
  };
  one("stopgate_api_connections_open", "Open socket API connections.", http::metric_type::gauge,
      double(api_stats.connections_open));
  one("stopgate_api_connections_total", "Socket API connections accepted.", http::metric_type::counter,
      double(api_stats.connections_total));
  one("stopgate_api_connections_rejected_total",
      "Socket API connections closed at accept because api.max_connections was reached.",
      http::metric_type::counter, double(api_stats.connections_rejected));
  one("stopgate_api_in_flight_requests", "Socket API requests being handled now.", http::metric_type::gauge,
      double(api_stats.in_flight));
  one("stopgate_api_received_bytes_total", "Bytes read from socket API connections.", http::metric_type::counter,
      double(api_stats.bytes_in));
  one("stopgate_api_sent_bytes_total", "Bytes written to socket API connections.", http::metric_type::counter,
      double(api_stats.bytes_out));
  http::metric_family errors{"stopgate_api_errors_total", "Socket API error answers by code.",
                             http::metric_type::counter, {}};
  for (int code = 1; code < api::api_errc_count; ++code)
    errors.samples.push_back(
        {"", {{"code", std::string(api::to_string(api::api_errc(code)))}}, double(api_stats.errors[std::size_t(code)])});
  families.push_back(std::move(errors));
  http::metric_family req{"stopgate_api_requests_total", "Socket API requests by op.", http::metric_type::counter, {}};
  for (std::size_t i = 0; i < api_stats.requests.size(); ++i)
    req.samples.push_back({"", {{"op", std::string(api::to_string(api::op_kind(i)))}}, double(api_stats.requests[i])});
  families.push_back(std::move(req));
  http::metric_family redis_up{"stopgate_redis_up", "1 when the worker's Redis answered its last PING in time.",
                               http::metric_type::gauge, {}};
  for (auto& w : workers_)
    redis_up.samples.push_back({"", {{"worker", std::to_string(w->index)}}, w->redis_up.load() ? 1.0 : 0.0});
  families.push_back(std::move(redis_up));
  http::metric_family losses{"stopgate_contacts_data_loss_detected_total",
                             "Change-stream polls of the worker's contact cache that showed Redis lost "
                             "contact-store changes (readiness condition contact_data).",
                             http::metric_type::counter, {}};
  for (auto& w : workers_)
    losses.samples.push_back({"", {{"worker", std::to_string(w->index)}}, double(w->contacts_data_losses.load())});
  families.push_back(std::move(losses));
  http::metric_family ready{"stopgate_ready_condition",
                            "1 when a readiness condition holds (/readyz is 200 when all do).",
                            http::metric_type::gauge, {}};
  for (auto& c : readiness_conditions())
    ready.samples.push_back({"", {{"condition", c.name}}, c.ok ? 1.0 : 0.0});
  families.push_back(std::move(ready));
  append_carrier_families(families, carrier_states_->counters());
  for (auto& f : webhooks_->metric_families()) families.push_back(std::move(f));
  if (scheduler_)
    for (auto& f : scheduler_->metric_families()) families.push_back(std::move(f));
  if (hooks_)
    families.push_back({"stopgate_status_webhooks_total",
                        "Status events POSTed to senders' status_url by this gateway, by result "
                        "(a failed one is sent again).",
                        http::metric_type::counter,
                        {{"", {{"result", "delivered"}}, double(hooks_->counters().delivered.load())},
                         {"", {{"result", "failed"}}, double(hooks_->counters().failed.load())}}});
  for (auto& f : dialer_metric_families(*dialers_)) families.push_back(std::move(f));
  families.push_back({"stopgate_config_last_reload_successful",
                      "1 when the last configuration reload (SIGHUP) was applied, 0 when refused.",
                      http::metric_type::gauge, {{"", {}, last_reload_ok_.load() ? 1.0 : 0.0}}});
  families.push_back({"stopgate_config_last_reload_success_timestamp_seconds",
                      "When the running configuration was loaded (start or last applied reload).",
                      http::metric_type::gauge, {{"", {}, double(last_reload_success_ms_.load()) / 1000}}});
  families.push_back({"stopgate_config_reloads_total", "Configuration reloads (SIGHUP) by result.",
                      http::metric_type::counter,
                      {{"", {{"result", "applied"}}, double(reloads_applied_.load())},
                       {"", {{"result", "refused"}}, double(reloads_refused_.load())}}});
  append_process_families(families);
  return families;
}

std::vector<http::metric_family> app::all_metric_families() const {
  auto families = metric_families();
  if (!all_parts_started_.load(std::memory_order_acquire)) return families;
  for (auto& f : http_->metric_families()) families.push_back(std::move(f));
  return families;
}

void app::shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  if (scheduler_) scheduler_->stop_claiming();
  cv_.notify_all();
  const auto grace = std::chrono::milliseconds(runtime_.load()->settings->server.shutdown_grace_ms);
  if (api_ && !workers_.empty()) {
    // Stop accepting; in-flight requests get the grace period to finish.
    auto done = asio::co_spawn(workers_[0]->io, api_->async_stop(grace), asio::use_future);
    std::future<void> http_done, dialers_done;
    if (http_) http_done = asio::co_spawn(workers_[0]->io, http_->async_stop(grace), asio::use_future);
    if (dialers_) dialers_done = asio::co_spawn(workers_[0]->io, dialers_->async_stop(grace), asio::use_future);
    if (done.wait_for(grace + std::chrono::seconds(1)) != std::future_status::ready)
      spdlog::warn("shutdown: socket API did not stop within the grace period");
    if (http_done.valid() && http_done.wait_for(grace + std::chrono::seconds(1)) != std::future_status::ready)
      spdlog::warn("shutdown: HTTP server did not stop within the grace period");
    if (dialers_done.valid() && dialers_done.wait_for(grace + std::chrono::seconds(1)) != std::future_status::ready)
      spdlog::warn("shutdown: dialer servers did not stop within the grace period");
  }
  if (scheduler_) scheduler_->stop(grace);
  if (hooks_ && !workers_.empty()) {
    auto done = asio::post(workers_[0]->io, asio::use_future([h = hooks_.get()] { h->stop(); }));
    done.wait_for(std::chrono::seconds(2));
  }
  if (webhooks_) webhooks_->stop();
  if (mirror_ && !workers_.empty()) {
    auto done = asio::post(workers_[0]->io, asio::use_future([m = mirror_.get()] { m->stop(); }));
    done.wait_for(std::chrono::seconds(2));
  }
  for (auto& w : workers_) {
    if (!w->thread.joinable()) continue;
    auto done = asio::post(w->io, asio::use_future([wp = w.get()] {
      if (wp->relay) wp->relay->stop();
      wp->redis->stop();
      if (wp->acked_redis) wp->acked_redis->stop();  // set on this thread: read here
      if (wp->contacts_redis) wp->contacts_redis->stop();
    }));
    done.wait_for(std::chrono::seconds(2));
    w->io.stop();
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (retention_.joinable()) retention_.join();
  if (readiness_watch_.joinable()) readiness_watch_.join();
  if (contacts_init_.joinable()) contacts_init_.join();
  http_.reset();
  dialers_.reset();
  api_.reset();
  ops_.reset();
  mirror_.reset();
  webhooks_.reset();  // after the workers stopped, before their io_contexts go
  hooks_.reset();     // the same: their timers and HTTP clients live on worker 0's context
  scheduler_.reset();
  queue_store_.reset();
  // Last to first: a frame still pending on a later worker's context may hold state (a
  // server's, a store's) whose timers and sockets live on worker 0's context, so worker 0's
  // context must be the last to go.
  while (!workers_.empty()) workers_.pop_back();
  if (evidence_) {
    evidence_->close();  // flushes and writes a final checkpoint
    evidence_.reset();
  }
  if (managed_) {
    managed_->stop();
    managed_.reset();
  }
}

}  // namespace stopgate::gateway
