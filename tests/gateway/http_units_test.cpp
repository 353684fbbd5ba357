// The HTTP server's pure parts: Prometheus formatting and histograms, the route table, the
// /v1/ops authorisation and status mapping.
#include "gateway/api/auth.hpp"
#include "gateway/http/counters.hpp"
#include "gateway/http/error.hpp"
#include "gateway/http/ops_route.hpp"
#include "gateway/http/prometheus.hpp"
#include "gateway/http/router.hpp"

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace gw = stopgate::gateway::http;
namespace api = stopgate::gateway::api;
namespace bhttp = boost::beast::http;

TEST(Prometheus, FormatsHelpTypeAndEscapes) {
  gw::metric_family f{"stopgate_optouts_total", "Opt-outs.\nBy sender \\ source.", gw::metric_type::counter,
                      {{"", {{"sender", "acme"}, {"source", "sms"}}, 3},
                       {"", {{"sender", "a\"b\\c\nd"}}, 1e6}}};
  std::string out;
  gw::append_exposition(out, f);
  EXPECT_EQ(out,
            "# HELP stopgate_optouts_total Opt-outs.\\nBy sender \\\\ source.\n"
            "# TYPE stopgate_optouts_total counter\n"
            "stopgate_optouts_total{sender=\"acme\",source=\"sms\"} 3\n"
            "stopgate_optouts_total{sender=\"a\\\"b\\\\c\\nd\"} 1000000\n");
}

TEST(Prometheus, FormatsSpecialAndFractionalValues) {
  gw::metric_family f{"g", "", gw::metric_type::gauge,
                      {{"", {{"k", "nan"}}, NAN}, {"", {{"k", "inf"}}, INFINITY},
                       {"", {{"k", "ninf"}}, -INFINITY}, {"", {{"k", "frac"}}, 0.25},
                       {"", {{"k", "neg"}}, -7}, {"", {{"k", "big"}}, 1e300}}};
  auto out = gw::format_exposition({f});
  EXPECT_NE(out.find("g{k=\"nan\"} NaN\n"), std::string::npos) << out;
  EXPECT_NE(out.find("g{k=\"inf\"} +Inf\n"), std::string::npos);
  EXPECT_NE(out.find("g{k=\"ninf\"} -Inf\n"), std::string::npos);
  EXPECT_NE(out.find("g{k=\"frac\"} 0.25\n"), std::string::npos);
  EXPECT_NE(out.find("g{k=\"neg\"} -7\n"), std::string::npos);
  EXPECT_NE(out.find("g{k=\"big\"} 1e+300\n"), std::string::npos);
}

TEST(Prometheus, InvalidNamesAreLeftOut) {
  EXPECT_TRUE(gw::valid_metric_name("stopgate:rule_total"));
  EXPECT_FALSE(gw::valid_metric_name("9lives"));
  EXPECT_FALSE(gw::valid_metric_name("has-dash"));
  EXPECT_FALSE(gw::valid_metric_name(""));
  EXPECT_TRUE(gw::valid_label_name("_x1"));
  EXPECT_FALSE(gw::valid_label_name("__name__"));
  EXPECT_FALSE(gw::valid_label_name("a:b"));
  auto out = gw::format_exposition({{"bad-name", "h", gw::metric_type::gauge, {{"", {}, 1}}},
                                    {"ok", "h", gw::metric_type::gauge,
                                     {{"", {{"bad label", "v"}}, 1}, {"", {{"good", "v"}}, 2}}}});
  EXPECT_EQ(out, "# HELP ok h\n# TYPE ok gauge\nok{good=\"v\"} 2\n");
}

TEST(Histogram, BucketsAreInclusiveAndCumulative) {
  gw::histogram h({0.5, 0.1, 1, 1, INFINITY});  // unsorted, duplicate, +Inf: normalised
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 0.5, 1}));
  for (double v : {0.05, 0.1, 0.3, 1.0, 7.0, double(NAN)}) h.observe(v);
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(s.count, 5u);  // NaN ignored
  EXPECT_DOUBLE_EQ(s.sum, 8.45);

  gw::metric_family f{"lat_seconds", "x", gw::metric_type::histogram, {}};
  gw::append_histogram_samples(f, s, {{"route", "/v1/ops"}});
  EXPECT_EQ(gw::format_exposition({f}),
            "# HELP lat_seconds x\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/v1/ops\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/v1/ops\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{route=\"/v1/ops\",le=\"1\"} 4\n"
            "lat_seconds_bucket{route=\"/v1/ops\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{route=\"/v1/ops\"} 8.45\n"
            "lat_seconds_count{route=\"/v1/ops\"} 5\n");
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  gw::histogram h(gw::histogram::latency_seconds_buckets());
  constexpr int threads = 4, per_thread = 50000;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&h, t] {
      for (int i = 0; i < per_thread; ++i) h.observe(0.001 * ((i + t) % 20));
    });
  }
  for (auto& t : ts) t.join();
  auto s = h.snapshot();
  EXPECT_EQ(s.count, std::uint64_t(threads) * per_thread);
  EXPECT_EQ(s.cumulative.back(), s.count);
  for (std::size_t i = 1; i < s.cumulative.size(); ++i) EXPECT_LE(s.cumulative[i - 1], s.cumulative[i]);
}

namespace {
gw::route_handler noop() {
  return [](const gw::request&) -> boost::asio::awaitable<gw::response> { co_return gw::response{}; };
}
}  // namespace

TEST(Router, ExactBuiltinsPrefixHooksAndAllow) {
  gw::router r;
  ASSERT_FALSE(r.add_builtin(bhttp::verb::get, "/healthz", gw::route_kind::healthz));
  ASSERT_FALSE(r.add_builtin(bhttp::verb::post, "/v1/ops", gw::route_kind::ops));
  ASSERT_FALSE(r.add_hook(bhttp::verb::post, "/v1/", noop()));
  ASSERT_FALSE(r.add_hook(bhttp::verb::post, "/v1/inbound/", noop()));
  ASSERT_FALSE(r.add_hook(bhttp::verb::put, "/v1/inbound/", noop()));

  auto m = r.find(bhttp::verb::get, "/healthz");
  EXPECT_EQ(m.what, gw::route_match::outcome::found);
  EXPECT_EQ(m.index, 0u);
  EXPECT_EQ(r.find(bhttp::verb::get, "/healthz/x").what, gw::route_match::outcome::not_found);
  EXPECT_EQ(r.find(bhttp::verb::post, "/v1/ops").index, 1u);  // exact beats the /v1/ prefix
  EXPECT_EQ(r.find(bhttp::verb::post, "/v1/inbound/twilio").index, 3u);  // longest prefix
  EXPECT_EQ(r.find(bhttp::verb::post, "/v1/other").index, 2u);
  m = r.find(bhttp::verb::get, "/v1/inbound/twilio");
  EXPECT_EQ(m.what, gw::route_match::outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "POST, PUT");
  EXPECT_EQ(r.find(bhttp::verb::get, "/other").what, gw::route_match::outcome::not_found);

  EXPECT_EQ(r.add_hook(bhttp::verb::post, "/v1/inbound/", noop()), gw::http_errc::route_taken);
  EXPECT_EQ(r.add_hook(bhttp::verb::post, "", noop()), gw::http_errc::bad_route);
  EXPECT_EQ(r.add_hook(bhttp::verb::post, "/x", {}), gw::http_errc::bad_route);
  for (int i = 0; r.size() < gw::max_routes; ++i) ASSERT_FALSE(r.add_hook(bhttp::verb::get, "/r" + std::to_string(i), noop()));
  EXPECT_EQ(r.add_hook(bhttp::verb::get, "/one-too-many", noop()), gw::http_errc::too_many_routes);
}

namespace {
std::string hex(const api::key_digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}
}  // namespace

TEST(OpsAuth, BearerKeysAndLoopbackWithoutKeys) {
  stopgate::config::settings none;
  api::key_table no_keys(none);
  auto local = gw::authorize_ops("", true, no_keys);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->roles, 0x0F);
  auto remote = gw::authorize_ops("Bearer anything", false, no_keys);
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().code, api::api_errc::forbidden);

  stopgate::config::settings keyed;
  keyed.api_keys.push_back({"crm", hex(api::sha256_digest("s3cret")), std::uint8_t(stopgate::config::role::send)});
  api::key_table keys(keyed);
  for (bool loopback : {true, false}) {
    auto ok = gw::authorize_ops("Bearer s3cret", loopback, keys);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->key_name, "crm");
    EXPECT_EQ(ok->roles, std::uint8_t(stopgate::config::role::send));
  }
  EXPECT_TRUE(gw::authorize_ops("  BEARER \t s3cret  ", false, keys));
  for (const char* bad : {"", "Bearer", "Bearer ", "Bearer s3cre", "Bearer s3cret2", "Basic czNjcmV0",
                          "s3cret", "Bearers3cret"}) {
    auto r = gw::authorize_ops(bad, true, keys);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, api::api_errc::unauthenticated) << bad;
  }
}

TEST(OpsAuth, StatusMapping) {
  using api::api_errc;
  EXPECT_EQ(gw::status_for(api_errc::bad_json), 400u);
  EXPECT_EQ(gw::status_for(api_errc::bad_request), 400u);
  EXPECT_EQ(gw::status_for(api_errc::invalid_number), 400u);
  EXPECT_EQ(gw::status_for(api_errc::unknown_op), 400u);
  EXPECT_EQ(gw::status_for(api_errc::batch_too_large), 400u);
  EXPECT_EQ(gw::status_for(api_errc::unauthenticated), 401u);
  EXPECT_EQ(gw::status_for(api_errc::forbidden), 403u);
  EXPECT_EQ(gw::status_for(api_errc::line_too_long), 413u);
  EXPECT_EQ(gw::status_for(api_errc::overloaded), 503u);
  EXPECT_EQ(gw::status_for(api_errc::store_unavailable), 503u);
  EXPECT_EQ(gw::status_for(api_errc::internal), 500u);
}

TEST(HttpMessage, SplitTarget) {
  EXPECT_EQ(gw::split_target("/a/b?x=1&y"), (std::pair<std::string_view, std::string_view>{"/a/b", "x=1&y"}));
  EXPECT_EQ(gw::split_target("/a"), (std::pair<std::string_view, std::string_view>{"/a", ""}));
  EXPECT_EQ(gw::split_target("/a?"), (std::pair<std::string_view, std::string_view>{"/a", ""}));
}
