// Socket API listeners and connection policy: auth and roles, TLS, unix socket, limits,
// idle timeout, graceful stop, several io_contexts.
#include "tests/gateway/api_test_support.hpp"

#include "gateway/api/auth.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace api = stopgate::gateway::api;
namespace asio = boost::asio;
namespace json = boost::json;
using stopgate::test::api_harness;
using stopgate::test::line_client;
using stopgate::test::loopback_settings;
using stopgate::test::tcp_client;

namespace {

std::string code_of(const json::object& o) {
  if (!o.contains("error")) return "";
  return std::string(o.at("error").at("code").as_string());
}

std::string hex(const api::key_digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::shared_ptr<stopgate::config::settings> keyed_settings() {
  auto s = loopback_settings();
  s->api_keys.push_back({"crm", hex(api::sha256_digest("crm-secret")),
                         std::uint8_t(stopgate::config::role::check)});
  s->api_keys.push_back({"ops", hex(api::sha256_digest("ops-secret")),
                         std::uint8_t(std::uint8_t(stopgate::config::role::admin) |
                                      std::uint8_t(stopgate::config::role::check))});
  return s;
}

}  // namespace

TEST(ApiAuth, FirstRequestMustBeAuthOrTheConnectionCloses) {
  api_harness h(keyed_settings());
  tcp_client c(h.server->tcp_port());
  auto r = c.call(R"({"op":"ping","id":1})");
  EXPECT_EQ(code_of(r), "unauthenticated");
  EXPECT_EQ(r.at("id").as_int64(), 1);
  EXPECT_FALSE(c.read_line()) << "the server must close the connection";
}

TEST(ApiAuth, BadKeyIsRejectedAndCloses) {
  api_harness h(keyed_settings());
  tcp_client c(h.server->tcp_port());
  EXPECT_EQ(code_of(c.call(R"({"op":"auth","id":"a","key":"wrong"})")), "unauthenticated");
  EXPECT_FALSE(c.read_line());
  tcp_client d(h.server->tcp_port());
  EXPECT_EQ(code_of(d.call(R"({"op":"auth","id":"a"})")), "unauthenticated");
  EXPECT_FALSE(d.read_line());
}

TEST(ApiAuth, RolesDecideWhichOpsAKeyMayUse) {
  api_harness h(keyed_settings());
  tcp_client c(h.server->tcp_port());
  auto r = c.call(R"({"op":"auth","id":"a","key":"crm-secret"})");
  ASSERT_TRUE(r.at("ok").as_bool()) << json::serialize(r);
  EXPECT_EQ(r.at("key").as_string(), "crm");
  EXPECT_EQ(r.at("roles").as_array(), (json::array{"check"}));
  r = c.call(R"({"op":"echo","id":2})");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_EQ(r.at("key").as_string(), "crm");  // the dispatcher sees the key name
  r = c.call(R"({"op":"stats","id":3})");
  EXPECT_EQ(code_of(r), "forbidden");
  EXPECT_NE(r.at("error").at("message").as_string().find("admin"), json::string::npos);
  EXPECT_EQ(code_of(c.call(R"({"op":"consent","id":4})")), "forbidden");
  EXPECT_TRUE(c.call(R"({"op":"ping"})").at("pong").as_bool());  // ping needs no role

  tcp_client admin(h.server->tcp_port());
  EXPECT_TRUE(admin.call(R"({"op":"auth","key":"ops-secret"})").at("ok").as_bool());
  EXPECT_TRUE(admin.call(R"({"op":"stats"})").at("ok").as_bool());
}

TEST(ApiAuth, AuthAndRequestsMayBePipelined) {
  api_harness h(keyed_settings());
  tcp_client c(h.server->tcp_port());
  c.send("{\"op\":\"auth\",\"id\":0,\"key\":\"crm-secret\"}\n{\"op\":\"echo\",\"id\":1}\n");
  EXPECT_TRUE(c.read_json().at("ok").as_bool());
  EXPECT_EQ(c.read_json().at("id").as_int64(), 1);
}

TEST(ApiAuth, ReloadRevokesARemovedKeyWithoutDroppingOthers) {
  api_harness h(keyed_settings());
  tcp_client crm(h.server->tcp_port());
  tcp_client ops(h.server->tcp_port());
  ASSERT_TRUE(crm.call(R"({"op":"auth","key":"crm-secret"})").at("ok").as_bool());
  ASSERT_TRUE(ops.call(R"({"op":"auth","key":"ops-secret"})").at("ok").as_bool());
  auto next = std::make_shared<stopgate::config::settings>(*h.settings);
  next->api_keys.erase(next->api_keys.begin());  // drop crm
  next->api_keys[0].roles = std::uint8_t(stopgate::config::role::check);  // ops loses admin
  h.server->update_settings(next);
  EXPECT_EQ(code_of(crm.call(R"({"op":"echo"})")), "unauthenticated");
  EXPECT_FALSE(crm.read_line());
  EXPECT_TRUE(ops.call(R"({"op":"echo"})").at("ok").as_bool());
  EXPECT_EQ(code_of(ops.call(R"({"op":"stats"})")), "forbidden");
}

TEST(ApiAuth, WithoutKeysLoopbackPeersGetEveryRole) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  EXPECT_TRUE(c.call(R"({"op":"stats"})").at("ok").as_bool());
  auto r = c.call(R"({"op":"auth","key":"anything"})");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_TRUE(r.at("key").is_null());
}

TEST(ApiAuth, LoopbackAddresses) {
  auto addr = [](const char* s) { return asio::ip::make_address(s); };
  EXPECT_TRUE(api::is_loopback_address(addr("127.0.0.1")));
  EXPECT_TRUE(api::is_loopback_address(addr("127.9.8.7")));
  EXPECT_TRUE(api::is_loopback_address(addr("::1")));
  EXPECT_TRUE(api::is_loopback_address(addr("::ffff:127.0.0.1")));
  EXPECT_FALSE(api::is_loopback_address(addr("10.0.0.1")));
  EXPECT_FALSE(api::is_loopback_address(addr("::ffff:10.0.0.1")));
  EXPECT_FALSE(api::is_loopback_address(addr("2001:db8::1")));
}

TEST(ApiAuth, KeyTableMatchesOnlyTheRightKey) {
  auto s = keyed_settings();
  api::key_table keys(*s);
  ASSERT_NE(keys.match_key("crm-secret"), nullptr);
  EXPECT_EQ(keys.match_key("crm-secret")->name, "crm");
  EXPECT_EQ(keys.match_key("ops-secret")->name, "ops");
  EXPECT_EQ(keys.match_key("crm-secreT"), nullptr);
  EXPECT_EQ(keys.match_key(""), nullptr);
}

TEST(ApiListeners, TlsRoundTripWithASelfSignedCertificate) {
  stopgate::test::temp_dir dir;
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                    "-subj /CN=localhost -keyout '" + (dir.path() / "key.pem").string() + "' -out '" +
                    (dir.path() / "cert.pem").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto s = loopback_settings();
  s->api.tls_listen = stopgate::config::listen_address{"127.0.0.1", 0};
  s->api.tls_cert = dir.path() / "cert.pem";
  s->api.tls_key = dir.path() / "key.pem";
  api_harness h(s);
  ASSERT_FALSE(h.start_error) << h.start_error.message();
  ASSERT_NE(h.server->tls_port(), 0);

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file((dir.path() / "cert.pem").string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  line_client<asio::ssl::stream<asio::ip::tcp::socket>> c(ctx);
  c.stream().lowest_layer().connect({asio::ip::make_address("127.0.0.1"), h.server->tls_port()});
  c.stream().handshake(asio::ssl::stream_base::client);
  EXPECT_GE(SSL_version(c.stream().native_handle()), TLS1_2_VERSION);
  auto r = c.call(R"({"op":"echo","id":"t"})");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_EQ(r.at("id").as_string(), "t");

  // TLS 1.1 is refused.
  asio::ssl::context old(asio::ssl::context::tls_client);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
  line_client<asio::ssl::stream<asio::ip::tcp::socket>> o(old);
  o.stream().lowest_layer().connect({asio::ip::make_address("127.0.0.1"), h.server->tls_port()});
  boost::system::error_code ec;
  o.stream().handshake(asio::ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
}

TEST(ApiListeners, UnixSocketWithGroupPermissions) {
  stopgate::test::temp_dir dir;
  auto s = loopback_settings();
  s->api.listen.reset();
  s->api.unix_socket = dir.path() / "api.sock";
  // A stale socket file from an earlier run is replaced.
  {
    asio::io_context io;
    asio::local::stream_protocol::acceptor stale(io, asio::local::stream_protocol::endpoint(s->api.unix_socket.string()));
  }
  ASSERT_TRUE(std::filesystem::exists(s->api.unix_socket));
  api_harness h(s, 2);
  ASSERT_FALSE(h.start_error) << h.start_error.message();
  auto perms = std::filesystem::status(s->api.unix_socket).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::group_write);
  for (int i = 0; i < 4; ++i) {  // spread over both contexts
    line_client<asio::local::stream_protocol::socket> c;
    c.stream().connect(asio::local::stream_protocol::endpoint(s->api.unix_socket.string()));
    EXPECT_TRUE(c.call(R"({"op":"stats"})").at("ok").as_bool());  // unix peers count as local
  }
}

TEST(ApiListeners, MaxConnectionsRefusesTheNextOne) {
  auto s = loopback_settings();
  s->api.max_connections = 2;
  api_harness h(s);
  tcp_client a(h.server->tcp_port());
  tcp_client b(h.server->tcp_port());
  EXPECT_TRUE(a.call(R"({"op":"ping"})").at("ok").as_bool());
  EXPECT_TRUE(b.call(R"({"op":"ping"})").at("ok").as_bool());
  tcp_client c(h.server->tcp_port());
  c.send("{\"op\":\"ping\"}\n");
  EXPECT_FALSE(c.read_line());
  auto st = h.server->stats();
  EXPECT_EQ(st.connections_rejected, 1u);
  EXPECT_EQ(st.connections_open, 2);
}

TEST(ApiListeners, SeveralContextsShareThePort) {
  api_harness h(loopback_settings(), 2);
  std::vector<std::unique_ptr<tcp_client>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(std::make_unique<tcp_client>(h.server->tcp_port()));
  for (auto& c : clients) EXPECT_TRUE(c->call(R"({"op":"echo","id":1})").at("ok").as_bool());
  EXPECT_EQ(h.server->stats().connections_total, 16u);
}

TEST(ApiListeners, IdleConnectionsAreClosed) {
  auto s = loopback_settings();
  s->api.idle_timeout_ms = 50;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  EXPECT_TRUE(c.call(R"({"op":"ping"})").at("ok").as_bool());
  EXPECT_FALSE(c.read_line());  // closed by the server once idle
}

TEST(ApiListeners, GracefulStopFinishesInFlightRequests) {
  api_harness h(loopback_settings());
  tcp_client c(h.server->tcp_port());
  c.send("{\"op\":\"gate\",\"id\":\"g\"}\n");
  while (h.dispatch->active_gates.load() == 0) std::this_thread::yield();
  auto stopped = h.stop(std::chrono::seconds(10));
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  h.dispatch->open_gate();
  auto r = c.read_json();
  EXPECT_EQ(r.at("id").as_string(), "g");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_FALSE(c.read_line());
  stopped.get();
  // No new connections after the stop.
  boost::system::error_code ec;
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), h.server->tcp_port()}, ec);
  EXPECT_TRUE(ec);
}
