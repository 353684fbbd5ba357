// Socket API listeners and connection policy: auth and roles, TLS, unix socket, limits,
// idle timeout, graceful stop, several io_contexts.
#include "tests/gateway/api_test_support.hpp"

#include "gateway/api/auth.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

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

/// What drip_until_closed saw: the bytes the server sent and whether it closed the connection.
struct drip_result {
  bool closed = false;
  std::string received;
};

/// Sends `drip` (bytes that complete no request) every 20 ms until the server answers, then
/// waits for the server to close; gives up after `limit` (far longer than the server's
/// deadlines in these tests, which are a few hundred ms).
drip_result drip_until_closed(tcp_client& c, std::string_view drip,
                              std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto& sock = c.stream();
  sock.non_blocking(true);
  drip_result r;
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    if (r.received.empty()) asio::write(sock, asio::buffer(drip), ec);
    char buf[4096];
    for (;;) {
      const std::size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) {
        r.closed = true;
        return r;
      }
      r.received.append(buf, n);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return r;
}

}  // namespace

// Without a deadline, clients that connect and never authenticate (sending a byte now and
// then) could hold every connection slot.
TEST(ApiAuth, AConnectionThatDoesNotAuthenticateInTimeIsAnsweredAndClosed) {
  auto s = keyed_settings();
  s->api.auth_timeout_ms = 200;
  s->api.idle_timeout_ms = 600000;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  auto r = drip_until_closed(c, " ");
  EXPECT_TRUE(r.closed) << "still open after 10 s of single spaces";
  ASSERT_FALSE(r.received.empty());
  auto answer = json::parse(r.received.substr(0, r.received.find('\n'))).as_object();
  EXPECT_EQ(code_of(answer), "unauthenticated");
  EXPECT_TRUE(answer.at("id").is_null());
  EXPECT_NE(answer.at("error").at("message").as_string().find("api.auth_timeout_ms"),
            json::string::npos);
  // The slot is free again.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (h.server->stats().connections_open != 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(h.server->stats().connections_open, 0);
}

TEST(ApiAuth, AuthenticatingInTimeLiftsTheDeadline) {
  auto s = keyed_settings();
  s->api.auth_timeout_ms = 100;
  api_harness h(s);
  tcp_client c(h.server->tcp_port());
  EXPECT_TRUE(c.call(R"({"op":"auth","key":"crm-secret"})").at("ok").as_bool());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(c.call(R"({"op":"ping"})").at("ok").as_bool());
}

TEST(ApiAuth, BeforeAuthLinesAreLimitedToFourKiB) {
  auto s = keyed_settings();
  s->api.max_line_bytes = 1 << 20;
  s->api.idle_timeout_ms = 1000;  // (a server holding the whole line closes silently, later)
  api_harness h(s);
  {
    // An oversized first line is refused once 4 KiB have arrived, not held to the line limit.
    tcp_client c(h.server->tcp_port());
    c.send(std::string(8192, 'a'));
    auto r = c.read_json();
    EXPECT_EQ(code_of(r), "unauthenticated") << json::serialize(r);
    EXPECT_FALSE(c.read_line());
  }
  {
    // After auth the configured limit applies (pipelined in the same write).
    tcp_client c(h.server->tcp_port());
    const std::string big = R"({"op":"echo","id":2,"pad":")" + std::string(100000, 'p') + "\"}\n";
    c.send(R"({"op":"auth","key":"crm-secret","id":1})"
           "\n" +
           big);
    EXPECT_TRUE(c.read_json().at("ok").as_bool());
    auto r = c.read_json();
    EXPECT_TRUE(r.at("ok").as_bool()) << code_of(r);
  }
}

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

// Only a complete request line (or a written answer) is activity: bytes that never complete
// a line, and blank lines, do not reset the idle timer.
TEST(ApiListeners, BytesThatCompleteNoRequestDoNotKeepAConnectionOpen) {
  auto s = loopback_settings();
  s->api.idle_timeout_ms = 200;
  api_harness h(s);
  for (std::string_view drip : {" ", "\n", " \t\r\n"}) {
    tcp_client c(h.server->tcp_port());
    EXPECT_TRUE(c.call(R"({"op":"ping"})").at("ok").as_bool());
    auto r = drip_until_closed(c, drip);
    EXPECT_TRUE(r.closed) << "drip \"" << drip << "\" kept the connection open for 10 s";
    EXPECT_EQ(r.received, "") << "blank lines get no answer";
  }
  // Requests do keep it open.
  tcp_client c(h.server->tcp_port());
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(c.call(R"({"op":"ping"})").at("ok").as_bool()) << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
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
