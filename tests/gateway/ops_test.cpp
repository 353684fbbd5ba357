// The ops in-process: the real ops object handed its services (evidence log, list mirror,
// runtime, two workers with their own Redis connection and contact store) over a real
// redis-server, called directly with a request context, no transport in between. Each request
// uses the parts of the worker its context names.
#include "gateway/ops/ops.hpp"

#include "gateway/send/send_op.hpp"
#include "tests/gateway/webhook_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/json.hpp>

namespace stopgate::test {
namespace {

namespace json = boost::json;
using gateway::api::api_errc;
using gateway::api::op_result;

// Two workers; worker 1 has no contact store (as before the store is set up: Redis was
// unreachable at start).
class ops_bed {
 public:
  explicit ops_bed(redis_server& r) {
    auto loaded = config::load_string(webhook_config(dir_), "test");
    if (!loaded) throw std::runtime_error("config: " + loaded.error().to_string());
    evidence::options eo;
    eo.dir = dir_.path() / "evidence";
    eo.instance = "gwO";
    eo.hmac_key = "ops-test-hmac-key-0123456789abcdef0123";
    log_ = *evidence::log::open(eo, {});

    auto engine = dnc::policy::policy_engine::make(*loaded);
    if (!engine) throw std::runtime_error("engine: " + engine.error().message());
    auto rt = std::make_shared<gateway::runtime_config>();
    rt->settings = *loaded;
    rt->engine = std::make_shared<const dnc::policy::policy_engine>(std::move(*engine));
    runtime_ = rt;

    redis::client_options ro;
    ro.ep = *redis::parse_url(r.tcp_url());
    workers_ = std::make_unique<test_workers>(ro, 2, [](unsigned i) { return i == 0; });
    // Never started: an empty list snapshot (no list is configured as required).
    dnc::lists::list_mirror::options mo;
    mo.redis = ro;
    mirror_ = std::make_unique<dnc::lists::list_mirror>((*workers_)[0].io.get_executor(), mo);

    gateway::services svc;
    svc.log = log_.get();
    svc.mirror = mirror_.get();
    svc.runtime = [this] { return runtime_; };
    svc.workers = workers_->all();
    ops_ = std::make_unique<gateway::ops>(svc);
  }

  ~ops_bed() {
    workers_->stop();
    ops_.reset();
    mirror_.reset();
    workers_.reset();
    log_->close();
  }

  /// Runs `op` with `fields` on worker `worker`, as the transports do, and waits.
  op_result call(std::string_view op, json::object fields, unsigned worker = 0) {
    auto settings = runtime_->settings;
    return asio::co_spawn(
               (*workers_)[worker].io,
               [this, op, fields = std::move(fields), worker,
                settings]() -> asio::awaitable<op_result> {
                 gateway::api::request_context ctx;
                 ctx.roles = 0x0F;
                 ctx.loopback = true;
                 ctx.settings = settings.get();
                 ctx.worker = worker;
                 co_return co_await ops_->async_handle(op, fields, ctx);
               },
               asio::use_future)
        .get();
  }

  std::uint64_t durable_records() const { return log_->durable_seq(); }

 private:
  temp_dir dir_;
  std::unique_ptr<evidence::log> log_;
  std::shared_ptr<const gateway::runtime_config> runtime_;
  std::unique_ptr<test_workers> workers_;
  std::unique_ptr<dnc::lists::list_mirror> mirror_;
  std::unique_ptr<gateway::ops> ops_;
};

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

class Ops : public shared_redis<> {};

TEST_F(Ops, AnOptOutIsRecordedAndTheNextCommittedCheckDeniesIt) {
  ops_bed bed(*redis);
  auto before = bed.call("check", {{"to", "+14155552671"}, {"sender", "acme"},
                                   {"purpose", "informational"}, {"commit", true}});
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(text(before->at("result").as_object(), "decision"), "allow");

  auto out = bed.call("optout", {{"to", "(415) 555-2671"}, {"sender", "acme"}});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(text(*out, "to"), "+14155552671");
  EXPECT_FALSE(text(*out, "evidence_id").empty());

  auto after = bed.call("check", {{"to", "+14155552671"}, {"sender", "acme"},
                                  {"purpose", "informational"}, {"commit", true}});
  ASSERT_TRUE(after) << after.error().message;
  const auto& res = after->at("result").as_object();
  EXPECT_EQ(text(res, "decision"), "deny");
  EXPECT_EQ(res.at("reasons").as_array().at(0).as_string(), "optout");
  EXPECT_FALSE(text(res, "evidence_id").empty());
  // Both committed checks and the opt-out were durable before their answers.
  EXPECT_GE(bed.durable_records(), 3u);

  auto looked = bed.call("lookup", {{"to", "+14155552671"}});
  ASSERT_TRUE(looked) << looked.error().message;
  ASSERT_EQ(looked->at("optouts").as_array().size(), 1u);
  EXPECT_EQ(text(looked->at("optouts").as_array()[0].as_object(), "sender"), "acme");
}

TEST_F(Ops, ARequestUsesTheContactStoreOfTheWorkerItNames) {
  ops_bed bed(*redis);
  // Worker 1 has no contact store: its requests fail closed; worker 0's succeed.
  auto on1 = bed.call("optout", {{"to", "+14155552672"}, {"sender", "acme"}}, 1);
  ASSERT_FALSE(on1);
  EXPECT_EQ(on1.error().code, api_errc::store_unavailable);
  auto check1 = bed.call("check", {{"to", "+14155552672"}, {"sender", "acme"},
                                   {"purpose", "informational"}}, 1);
  ASSERT_TRUE(check1) << check1.error().message;
  EXPECT_EQ(text(check1->at("result").as_object(), "decision"), "deny");
  EXPECT_EQ(check1->at("result").as_object().at("reasons").as_array().at(0).as_string(),
            "store_unavailable");

  auto on0 = bed.call("optout", {{"to", "+14155552672"}, {"sender", "acme"}}, 0);
  ASSERT_TRUE(on0) << on0.error().message;
  auto looked = bed.call("lookup", {{"to", "+14155552672"}}, 0);
  ASSERT_TRUE(looked) << looked.error().message;
  EXPECT_EQ(looked->at("optouts").as_array().size(), 1u);
}

TEST_F(Ops, ConsentIsValidatedThenStoredAndLookedUp) {
  ops_bed bed(*redis);
  auto bad = bed.call("consent", {{"to", "+14155552673"},
                                  {"sender", "acme"},
                                  {"kind", "express_written"},
                                  {"captured_at", "2026-11-01T10:00:00Z"},
                                  {"source", {{"method", "web_form"}}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, api_errc::bad_request);
  EXPECT_NE(bad.error().message.find("source.text"), std::string::npos) << bad.error().message;

  auto ok = bed.call("consent",
                     {{"to", "+14155552673"},
                      {"sender", "acme"},
                      {"kind", "express_written"},
                      {"captured_at", "2026-11-01T10:00:00Z"},
                      {"source", {{"method", "web_form"}, {"text", "I agree to texts from Acme."}}}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(text(*ok, "consent_id").empty());
  auto looked = bed.call("lookup", {{"to", "+14155552673"}});
  ASSERT_TRUE(looked) << looked.error().message;
  ASSERT_EQ(looked->at("consents").as_array().size(), 1u);
  EXPECT_EQ(text(looked->at("consents").as_array()[0].as_object(), "consent_id"),
            text(*ok, "consent_id"));
}

TEST_F(Ops, AnUnknownOpAndABadNumberAreAnsweredWithTheirCodes) {
  ops_bed bed(*redis);
  auto unknown = bed.call("nosuch", {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, api_errc::unknown_op);
  auto bad = bed.call("optout", {{"to", "12"}, {"sender", "acme"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, api_errc::invalid_number);
}

}  // namespace
}  // namespace stopgate::test
