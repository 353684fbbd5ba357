// In-process webhook test bed: a real redis-server, a real evidence log, two gateway worker
// threads (each with its Redis connection and contact store), the real HTTP server on a
// loopback port with the webhook routes (inbound and delivery status), a settable clock and a
// recording reply sender.
#pragma once

#include "carriers/signature/crypto.hpp"
#include "config/load.hpp"
#include "dnc/contacts/store.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/send/status_route.hpp"
#include "gateway/webhooks/service.hpp"
#include "gateway/worker.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/webhooks.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <optional>

namespace stopgate::test {

namespace asio = boost::asio;
namespace webhooks = gateway::webhooks;

inline const std::string telnyx_seed = "telnyx-test-seed-0123456789abcde";  // 32 bytes
inline const std::string contact_secret = "webhook-test-contact-secret";

inline std::string webhook_config(const temp_dir& d, const std::string& extra = "") {
  const auto pub = carriers::signature::ed25519_public_from_seed(telnyx_seed);
  const std::string pub64 = carriers::signature::base64_encode(
      std::string_view(reinterpret_cast<const char*>(pub->data()), 32));
  return "[server]\ndata_dir = \"" + d.path().string() +
         "\"\n"
         "[http]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://gw.example.com\"\n"
         "[evidence]\nhmac_key = \"webhook-test-hmac-key-0123456789abcdef\"\n"
         "[carriers.twilio]\ntype = \"twilio\"\naccount_sid = "
         "\"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"twilio-token\"\n"
         "[carriers.telnyx]\ntype = \"telnyx\"\napi_key = \"telnyx-key\"\npublic_key = \"" +
         pub64 +
         "\"\n"
         "[carriers.bandwidth]\ntype = \"bandwidth\"\naccount_id = \"9900000\"\napplication_id = "
         "\"app-1\"\n"
         "username = \"api\"\npassword = \"api-pass\"\nwebhook_username = "
         "\"bw-hook\"\nwebhook_password = \"bw-hook-pass\"\n"
         "[carriers.vonage]\ntype = \"vonage\"\napi_key = \"vkey\"\napi_secret = "
         "\"vsecret\"\nsignature_secret = \"vonage-sig-secret\"\n"
         "[carriers.plivo]\ntype = \"plivo\"\nauth_id = \"MAXXXXXXXXXXXXXXXXXX\"\nauth_token = "
         "\"plivo-token\"\n"
         "[carriers.sinch]\ntype = \"sinch\"\nservice_plan_id = \"plan1\"\napi_token = "
         "\"sinch-token\"\nwebhook_secret = \"sinch-secret\"\n"
         "[carriers.generic]\ntype = \"http\"\nurl = \"http://127.0.0.1:9/send\"\nwebhook_secret = "
         "\"generic-secret\"\n"
         "[carriers.sandbox]\ntype = \"sandbox\"\nwebhook_secret = \"sandbox-secret\"\n"
         "[senders.acme]\nnumbers = [\"+14155552000\"]\nroute = [\"sandbox\"]\n"
         "[senders.beta]\nnumbers = [\"+14155552001\"]\nroute = [\"sandbox\"]\n"
         "optout_reply = \"Beta: unsubscribed.\"\n" +
         extra;
}

/// A test suite with one redis-server for all its tests, flushed before each test.
/// `Base`: ::testing::Test, or ::testing::TestWithParam<T> for parameterised suites.
template <class Base = ::testing::Test>
class shared_redis : public Base {
 protected:
  static inline redis_server* redis = nullptr;
  static void SetUpTestSuite() { redis = new redis_server(); }
  static void TearDownTestSuite() {
    delete redis;
    redis = nullptr;
  }
  void SetUp() override { redis->cli("FLUSHALL"); }
};

/// Worker threads as the gateway runs them: each its io_context, Redis connection and (unless
/// `with_store(i)` is false) contact store, connected before the constructor returns.
class test_workers {
 public:
  test_workers(const redis::client_options& ro, unsigned n,
               std::function<bool(unsigned)> with_store = {}) {
    auto p = *dnc::contacts::contact_keys::pseudonymizer::create(contact_secret);
    for (unsigned i = 0; i < n; ++i) {
      auto w = std::make_unique<gateway::worker>();
      w->index = i;
      w->redis = std::make_unique<redis::client>(w->io.get_executor(), ro);
      if (!with_store || with_store(i))
        w->contacts = std::make_unique<dnc::contacts::contact_store>(*w->redis, p);
      asio::post(w->io, [c = w->redis.get()] { c->start(); });
      w_.push_back(std::move(w));
    }
    for (auto& w : w_) w->thread = std::thread([wp = w.get()] { wp->run(); });
    for (auto& w : w_) {
      auto f = asio::co_spawn(w->io, w->redis->async_wait_connected(std::chrono::seconds(5)),
                              asio::use_future);
      if (f.get()) throw std::runtime_error("redis did not connect");
    }
  }
  ~test_workers() { stop(); }

  /// Stops each Redis client and event loop, joins the threads, then frees the connections and
  /// stores (what runs on the workers must be stopped first). Idempotent.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& w : w_) {
      auto d = asio::post(w->io, asio::use_future([c = w->redis.get()] { c->stop(); }));
      d.wait_for(std::chrono::seconds(2));
      w->io.stop();
    }
    for (auto& w : w_) w->thread.join();
    for (auto& w : w_) {
      w->contacts.reset();
      w->redis.reset();
    }
  }

  gateway::worker& operator[](unsigned i) { return *w_.at(i); }
  std::vector<gateway::worker*> all() const {
    std::vector<gateway::worker*> out;
    for (auto& w : w_) out.push_back(w.get());
    return out;
  }

 private:
  std::vector<std::unique_ptr<gateway::worker>> w_;
  bool stopped_ = false;
};

class webhook_bed {
 public:
  /// `hooks` and `instance`: for tests that fail the evidence log or run two gateways.
  /// `encryption_key`: 32 bytes to seal bodies in the evidence log ("" = off).
  explicit webhook_bed(redis_server& r, const std::string& extra_config = "",
                       webhooks::service_options opts = {}, evidence::log_hooks hooks = {},
                       const std::string& instance = "gwT", const std::string& encryption_key = "") {
    auto loaded = config::load_string(webhook_config(dir_, extra_config), "test");
    if (!loaded) throw std::runtime_error("config: " + loaded.error().to_string());
    settings_ = *loaded;
    evidence::options eo;
    eo.dir = dir_.path() / "evidence";
    eo.instance = instance;
    eo.hmac_key = "webhook-test-hmac-key-0123456789abcdef";
    eo.checkpoint_every = 1000;
    eo.encryption_key = encryption_key;
    log_ = *evidence::log::open(eo, std::move(hooks));

    redis::client_options ro;
    ro.ep = *redis::parse_url(r.tcp_url());
    ro.command_timeout = std::chrono::milliseconds(300);
    ro.reconnect_min = std::chrono::milliseconds(20);
    ro.reconnect_max = std::chrono::milliseconds(100);
    workers_ = std::make_unique<test_workers>(ro, 2);

    opts.clock = [this] { return now(); };
    opts.poll_interval = std::chrono::milliseconds(20);
    gateway::services parts;
    parts.log = log_.get();
    parts.workers = workers_->all();
    std::vector<asio::io_context*> contexts;
    for (auto* w : parts.workers) contexts.push_back(&w->io);
    svc_ = std::make_unique<webhooks::service>(
        *log_, [this] { return settings_; },
        [this](const config::settings&, const webhooks::reply_item& it,
               gateway::worker&) -> asio::awaitable<webhooks::send_verdict> {
          std::lock_guard lock(mu_);
          sent_.push_back(it);
          co_return verdict_.load();
        },
        parts.workers, opts);
    server_ = std::make_unique<gateway::http::http_server>(contexts, settings_, nullptr,
                                                           gateway::http::providers{});
    if (svc_->register_routes(*server_)) throw std::runtime_error("routes");
    // The delivery-status route too, on the same workers (its Redis and contact store).
    if (gateway::send::add_status_route(*server_, parts, status_counters_))
      throw std::runtime_error("status route");
    if (server_->start()) throw std::runtime_error("http start");
    svc_->start();
  }

  ~webhook_bed() {
    svc_->stop();
    auto f = asio::co_spawn((*workers_)[0].io, server_->async_stop(std::chrono::milliseconds(500)),
                            asio::use_future);
    f.wait_for(std::chrono::seconds(3));
    workers_->stop();
    svc_.reset();
    server_.reset();
    workers_.reset();
    log_->close();
  }

  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(now_us_.load()));
  }
  void advance(std::chrono::microseconds d) { now_us_ += d.count(); }

  const config::carrier_settings& carrier(const std::string& name) const {
    return *settings_->carrier(name);
  }
  const config::settings& settings() const { return *settings_; }
  webhooks::service& svc() { return *svc_; }
  const temp_dir& dir() const { return dir_; }
  evidence::log& log() { return *log_; }

  /// Sends `w` over loopback; returns the HTTP status (0 when no answer) and the body.
  std::pair<int, std::string> post(const fake_carrier::webhook& w) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()}, ec);
    if (ec) return {0, ""};
    asio::write(s, asio::buffer(fake_carrier::to_http(w)), ec);
    std::string out;
    char buf[4096];
    for (;;) {
      auto n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    if (out.size() < 12) return {0, out};
    auto body_at = out.find("\r\n\r\n");
    return {std::stoi(out.substr(9, 3)),
            body_at == std::string::npos ? "" : out.substr(body_at + 4)};
  }

  const gateway::send::status_counters& status_stats() const { return *status_counters_; }

  fake_carrier::webhook inbound(const std::string& carrier, const std::string& id,
                                const std::string& from, const std::string& to,
                                const std::string& body) {
    fake_carrier::signing keys;
    keys.telnyx_seed = telnyx_seed;
    return fake_carrier::inbound_webhook(carrier_ref(carrier), "https://gw.example.com",
                                         {id, from, to, body}, now(), keys);
  }

  /// Runs `f(worker 0's contact store)` on worker 0 and waits.
  template <class F>
  auto on_worker(F f) {
    gateway::worker& w = (*workers_)[0];
    return asio::co_spawn(w.io, f(*w.contacts, *w.redis),
                          asio::use_future)
        .get();
  }

  /// The store's record of `number`. A lookup that fails (worker 0's Redis connection still
  /// reconnecting after a restart) is repeated, bounded; the last failure yields an empty record.
  dnc::contacts::contact_record lookup(const std::string& number) {
    auto n = *dnc::model::parse_phone(number);
    std::optional<dnc::contacts::contact_record> rec;
    for (int i = 0; i < 250 && !rec; ++i) {
      rec = on_worker(
          [n](dnc::contacts::contact_store& c,
              redis::client&) -> asio::awaitable<std::optional<dnc::contacts::contact_record>> {
            auto r = co_await c.async_lookup(n);
            if (!r) co_return std::nullopt;
            co_return *r;
          });
      if (!rec) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // reconnect backoff
    }
    return rec.value_or(dnc::contacts::contact_record{});
  }

  /// Waits (bounded, no timing assertion) until `n` replies were handed to the sender.
  std::vector<webhooks::reply_item> wait_sent(
      std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (sent_.size() >= n || std::chrono::steady_clock::now() > until) return sent_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::vector<webhooks::reply_item> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  void set_verdict(webhooks::send_verdict v) { verdict_ = v; }

  /// Every evidence record (parsed lines of every segment), in order.
  std::vector<boost::json::object> evidence_records() {
    std::vector<boost::json::object> out;
    std::vector<std::filesystem::path> files;
    for (auto& e : std::filesystem::directory_iterator(dir_.path() / "evidence"))
      if (e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      std::ifstream in(f);
      std::string line;
      while (std::getline(in, line))
        if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    }
    return out;
  }
  std::vector<boost::json::object> records_of(std::string_view type) {
    std::vector<boost::json::object> out;
    for (auto& r : evidence_records())
      if (r.at("type").as_string() == type) out.push_back(r);
    return out;
  }

 private:
  const config::carrier_settings& carrier_ref(const std::string& name) const {
    return *settings_->carrier(name);
  }

  temp_dir dir_;
  config::settings_ptr settings_;
  std::unique_ptr<evidence::log> log_;
  std::unique_ptr<test_workers> workers_;
  std::unique_ptr<gateway::http::http_server> server_;
  std::unique_ptr<webhooks::service> svc_;
  std::shared_ptr<gateway::send::status_counters> status_counters_ =
      std::make_shared<gateway::send::status_counters>();
  std::atomic<std::int64_t> now_us_{std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()};
  std::mutex mu_;
  std::vector<webhooks::reply_item> sent_;
  std::atomic<webhooks::send_verdict> verdict_{webhooks::send_verdict::sent};
};

}  // namespace stopgate::test
