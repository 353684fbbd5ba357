// The carrier HTTP client (libcurl multi-socket on Asio) against a loopback HTTP server in
// the same io_context (tests/carriers/test_http_server.hpp), plain and TLS.
#include "carriers/http/client.hpp"
#include "tests/carriers/test_http_server.hpp"
#include "tests/support/temp_dir.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

// GCC 12 at -O2 misreads Asio's awaitable frame allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace stopgate::carriers::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using test::test_http_server;

// Runs `body` on `io` until it finishes (bounded); rethrows what it threw.
void run(asio::io_context& io, std::function<asio::awaitable<void>()> body,
         std::chrono::seconds limit = 30s) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  io.restart();
  const auto deadline = clock_type::now() + limit;
  while (!done && clock_type::now() < deadline) io.run_one_for(50ms);
  ASSERT_TRUE(done) << "test coroutine did not finish";
  if (error) std::rethrow_exception(error);
}

// Polls `cond` on the executor (no sleeping thread), up to `limit`.
asio::awaitable<bool> eventually(std::function<bool()> cond, std::chrono::milliseconds limit = 5s) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = clock_type::now() + limit;
  while (!cond()) {
    if (clock_type::now() > deadline) co_return false;
    t.expires_after(2ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return true;
}

request get(std::string url, std::chrono::milliseconds timeout = 5s) {
  request r;
  r.method = "GET";
  r.url = std::move(url);
  r.timeout = timeout;
  return r;
}

// A self-signed certificate for IP 127.0.0.1 (also its own CA), PEM.
struct test_cert {
  std::string cert_pem;
  std::string key_pem;
};

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

test_cert make_self_signed() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  test_cert out;
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  out.cert_pem = bio_string(cb);
  BIO_free(cb);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(kb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// A TCP port nothing listens on: bound, then closed.
unsigned short closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}

// --- values -----------------------------------------------------------------------------

TEST(HttpClientValues, HeaderLookupIsCaseInsensitive) {
  response r;
  r.headers = {{"Content-Type", "application/json"}, {"Retry-After", "3"}};
  EXPECT_EQ(r.header("retry-after"), "3");
  EXPECT_EQ(r.header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(r.header("X-Missing"));
}

TEST(HttpClientValues, RejectsHeaderInjectionAndBadUrls) {
  request ok;
  ok.url = "https://api.example.com/v1/messages";
  ok.headers = {{"Authorization", "Bearer abc"}};
  EXPECT_FALSE(check_request(ok));

  auto bad = ok;
  bad.headers = {{"X-A", "v\r\nX-Injected: 1"}};
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
  bad = ok;
  bad.headers = {{"Bad Name", "v"}};
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
  bad = ok;
  bad.url = "file:///etc/passwd";
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
  bad = ok;
  bad.url = "https://api.example.com/a b";
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
  bad = ok;
  bad.method = "PO ST";
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
  bad = ok;
  bad.timeout = 0ms;
  EXPECT_EQ(check_request(bad), client_errc::invalid_request);
}

TEST(HttpClientValues, OriginForLogsDropsCredentialsAndPath) {
  EXPECT_EQ(url_origin("https://AC123:secret@api.twilio.com/2010-04-01/x?y=1"), "api.twilio.com");
  EXPECT_EQ(url_origin("http://127.0.0.1:8080/echo"), "127.0.0.1:8080");
  EXPECT_EQ(url_origin("not a url"), "");
}

TEST(HttpClientValues, CurlCodesMapToClientErrors) {
  EXPECT_EQ(errc_from_curl(CURLE_OPERATION_TIMEDOUT, false), client_errc::timeout);
  EXPECT_EQ(errc_from_curl(CURLE_COULDNT_CONNECT, false), client_errc::connect_failed);
  EXPECT_EQ(errc_from_curl(CURLE_COULDNT_RESOLVE_HOST, false), client_errc::dns_failed);
  EXPECT_EQ(errc_from_curl(CURLE_PEER_FAILED_VERIFICATION, false), client_errc::tls_failed);
  EXPECT_EQ(errc_from_curl(CURLE_SSL_CONNECT_ERROR, false), client_errc::tls_failed);
  EXPECT_EQ(errc_from_curl(CURLE_SEND_ERROR, false), client_errc::send_failed);
  EXPECT_EQ(errc_from_curl(CURLE_PARTIAL_FILE, false), client_errc::recv_failed);
  EXPECT_EQ(errc_from_curl(CURLE_GOT_NOTHING, false), client_errc::recv_failed);
  EXPECT_EQ(errc_from_curl(CURLE_WRITE_ERROR, true), client_errc::too_large);
  EXPECT_EQ(errc_from_curl(CURLE_WRITE_ERROR, false), client_errc::curl_error);
  EXPECT_EQ(errc_from_curl(CURLE_FILESIZE_EXCEEDED, false), client_errc::too_large);
}

// --- against the loopback server -------------------------------------------------------

class HttpClient : public ::testing::Test {
 protected:
  asio::io_context io;
  test_http_server server{io.get_executor()};
};

TEST_F(HttpClient, GetAndPostEchoHeadersAndBody) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    auto g = co_await c.async_request(get(server.url("/echo")));
    EXPECT_TRUE(g.has_value());
    if (!g) co_return;
    EXPECT_EQ(g->status, 200);
    EXPECT_EQ(g->header("x-echo-method"), "GET");
    EXPECT_TRUE(g->request_sent);

    request p;
    p.url = server.url("/echo");
    p.headers = {{"Content-Type", "application/json"}, {"X-Test", "tv"}};
    p.body = R"({"to":"+14155552671","text":"hi"})";
    p.auth = basic_auth{"user", "pass"};
    auto r = co_await c.async_request(p);
    EXPECT_TRUE(r.has_value());
    if (!r) co_return;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, p.body);
    EXPECT_EQ(r->header("X-Echo-Method"), "POST");
    EXPECT_EQ(r->header("X-Echo-Test"), "tv");
    EXPECT_EQ(r->header("X-Echo-Content-Type"), "application/json");
    EXPECT_EQ(r->header("X-Echo-Auth"), "Basic dXNlcjpwYXNz");  // user:pass
    EXPECT_GT(r->elapsed.count(), 0);

    request put = p;
    put.method = "PUT";
    auto u = co_await c.async_request(put);
    EXPECT_TRUE(u && u->header("X-Echo-Method") == "PUT" && u->body == p.body);
  });
  EXPECT_EQ(server.connections(), 1u) << "sequential requests reuse one connection";
  EXPECT_EQ(c.in_flight(), 0u);
}

TEST_F(HttpClient, ErrorStatusIsAResponseNotAFailure) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_request(get(server.url("/status/503")));
    EXPECT_TRUE(r.has_value());
    if (r) {
      EXPECT_EQ(r->status, 503);
    }
  });
}

TEST_F(HttpClient, HundredConcurrentRequestsReuseBoundedConnections) {
  client::options o;
  o.max_connections_per_host = 8;
  client c(io.get_executor(), o);
  int ok = 0;
  run(io, [&]() -> asio::awaitable<void> {
    for (int round = 0; round < 2; ++round) {
      int finished = 0;
      for (int i = 0; i < 100; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
              request r;
              r.url = server.url("/echo");
              r.body = "m" + std::to_string(i);
              auto res = co_await c.async_request(std::move(r));
              if (res && res->status == 200 && res->body == "m" + std::to_string(i)) ++ok;
              ++finished;
            },
            asio::detached);
      }
      EXPECT_TRUE(co_await eventually([&] { return finished == 100; }, 20s));
    }
  });
  EXPECT_EQ(ok, 200);
  EXPECT_LE(server.connections(), 8u);
  EXPECT_GE(server.connections(), 1u);
  EXPECT_EQ(server.requests(), 200u);
  EXPECT_EQ(c.in_flight(), 0u);
}

TEST_F(HttpClient, TimeoutAfterSendingIsMarkedSent) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_request(get(server.url("/hang"), 200ms));
    EXPECT_FALSE(r.has_value());
    if (r) co_return;
    EXPECT_EQ(r.error().code, client_errc::timeout);
    EXPECT_TRUE(r.error().request_sent) << "a timeout after sending proves nothing";
  });
  EXPECT_EQ(server.requests(), 1u);
}

TEST_F(HttpClient, ConnectionRefusedIsMarkedNotSent) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/echo";
    auto r = co_await c.async_request(get(url));
    EXPECT_FALSE(r.has_value());
    if (r) co_return;
    EXPECT_EQ(r.error().code, client_errc::connect_failed);
    EXPECT_FALSE(r.error().request_sent);
  });
}

TEST_F(HttpClient, ResponseOverTheCapIsTooLarge) {
  client::options o;
  o.max_response_bytes = 1000;
  client c(io.get_executor(), o);
  run(io, [&]() -> asio::awaitable<void> {
    auto fits = co_await c.async_request(get(server.url("/big/1000")));
    EXPECT_TRUE(fits && fits->body.size() == 1000);
    // Known length: refused from Content-Length; chunked: cut by the body callback.
    for (const char* path : {"/big/5000", "/chunked/5000"}) {
      auto r = co_await c.async_request(get(server.url(path)));
      EXPECT_FALSE(r.has_value()) << path;
      if (!r) {
        EXPECT_EQ(r.error().code, client_errc::too_large) << path;
      }
    }
  });
}

TEST_F(HttpClient, ServerClosingMidResponseIsRecvFailed) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_request(get(server.url("/truncate")));
    EXPECT_FALSE(r.has_value());
    if (r) co_return;
    EXPECT_EQ(r.error().code, client_errc::recv_failed);
    EXPECT_TRUE(r.error().request_sent);
    // The broken connection is not reused: the next request works.
    auto next = co_await c.async_request(get(server.url("/echo")));
    EXPECT_TRUE(next && next->status == 200);
  });
}

TEST_F(HttpClient, InvalidRequestFailsAtOnce) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    request r = get(server.url("/echo"));
    r.headers = {{"X-A", "1\r\nX-B: 2"}};
    auto res = co_await c.async_request(r);
    EXPECT_TRUE(!res && res.error().code == client_errc::invalid_request);
  });
  EXPECT_EQ(server.requests(), 0u);
}

TEST_F(HttpClient, OverloadedBeyondMaxInFlight) {
  client::options o;
  o.max_in_flight = 2;
  client c(io.get_executor(), o);
  run(io, [&]() -> asio::awaitable<void> {
    int finished = 0;
    for (int i = 0; i < 2; ++i)
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            co_await c.async_request(get(server.url("/hang"), 10s));
            ++finished;
          },
          asio::detached);
    EXPECT_TRUE(co_await eventually([&] { return c.in_flight() == 2; }));
    auto r = co_await c.async_request(get(server.url("/echo")));
    EXPECT_TRUE(!r && r.error().code == client_errc::overloaded);
    c.stop();
    EXPECT_TRUE(co_await eventually([&] { return finished == 2; }));
  });
}

TEST_F(HttpClient, StopFailsInFlightRequestsWithStopped) {
  client c(io.get_executor(), {});
  std::vector<failure> failures;
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i)
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            auto r = co_await c.async_request(get(server.url("/hang"), 30s));
            if (!r) failures.push_back(r.error());
          },
          asio::detached);
    EXPECT_TRUE(co_await eventually([&] { return server.requests() == 5; }));
    EXPECT_EQ(c.in_flight(), 5u);
    c.stop();
    EXPECT_EQ(c.in_flight(), 0u);
    EXPECT_TRUE(co_await eventually([&] { return failures.size() == 5; }));
    auto late = co_await c.async_request(get(server.url("/echo")));
    EXPECT_TRUE(!late && late.error().code == client_errc::stopped);
  });
  ASSERT_EQ(failures.size(), 5u);
  for (const auto& f : failures) {
    EXPECT_EQ(f.code, client_errc::stopped);
    EXPECT_TRUE(f.request_sent);
  }
}

TEST_F(HttpClient, DestroyingTheClientFailsInFlightRequests) {
  auto c = std::make_unique<client>(io.get_executor(), client::options{});
  int stopped = 0;
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i)
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            auto r = co_await c->async_request(get(server.url("/hang"), 30s));
            if (!r && r.error().code == client_errc::stopped) ++stopped;
          },
          asio::detached);
    EXPECT_TRUE(co_await eventually([&] { return server.requests() == 3; }));
    c.reset();
    EXPECT_TRUE(co_await eventually([&] { return stopped == 3; }));
  });
  EXPECT_EQ(stopped, 3);
}

TEST_F(HttpClient, CancellingTheAwaiterAbortsTheTransfer) {
  using namespace asio::experimental::awaitable_operators;
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, 100ms);
    auto winner = co_await (c.async_request(get(server.url("/hang"), 30s)) ||
                            t.async_wait(asio::use_awaitable));
    EXPECT_EQ(winner.index(), 1u) << "the timer wins; the request is cancelled";
    EXPECT_EQ(c.in_flight(), 0u);
    auto next = co_await c.async_request(get(server.url("/echo")));
    EXPECT_TRUE(next && next->status == 200);
  });
}

// --- TLS ---------------------------------------------------------------------------------

class HttpClientTls : public ::testing::Test {
 protected:
  HttpClientTls() {
    const auto cert = make_self_signed();
    ca_file = dir.write("ca.pem", cert.cert_pem).string();
    tls.use_certificate_chain(asio::buffer(cert.cert_pem));
    tls.use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
  }
  test::temp_dir dir;
  std::string ca_file;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  asio::io_context io;
  test_http_server server{io.get_executor(), &tls};
};

TEST_F(HttpClientTls, UnknownIssuerFailsVerificationByDefault) {
  client c(io.get_executor(), {});
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.async_request(get(server.url("/echo")));
    EXPECT_FALSE(r.has_value());
    if (r) co_return;
    EXPECT_EQ(r.error().code, client_errc::tls_failed);
    EXPECT_FALSE(r.error().request_sent);
  });
  EXPECT_EQ(server.requests(), 0u);
}

TEST_F(HttpClientTls, TrustedWithTheTestCaFile) {
  client::options o;
  o.ca_file = ca_file;
  client c(io.get_executor(), o);
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      request p;
      p.url = server.url("/echo");
      p.body = "secure " + std::to_string(i);
      auto r = co_await c.async_request(p);
      EXPECT_TRUE(r.has_value());
      if (r) {
        EXPECT_EQ(r->body, p.body);
      }
    }
  });
  EXPECT_EQ(server.connections(), 1u) << "TLS connection reused";
}

// --- rough throughput (printed, not asserted) ----------------------------------------------

TEST(HttpClientPerf, SmallPostsWith64InFlight) {
  asio::io_context server_io;
  test_http_server server(server_io.get_executor());
  auto guard = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });

  asio::io_context io;
  client c(io.get_executor(), {});
  constexpr int workers = 64;
  constexpr int per_worker = 300;
  int ok = 0;
  int done = 0;
  const auto start = clock_type::now();
  for (int w = 0; w < workers; ++w)
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < per_worker; ++i) {
            request r;
            r.url = server.url("/echo");
            r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            r.body = "To=%2B14155552671&From=%2B14155550000&Body=hello";
            auto res = co_await c.async_request(std::move(r));
            if (res && res->status == 200) ++ok;
          }
          ++done;
        },
        asio::detached);
  const auto limit = start + 60s;
  while (done < workers && clock_type::now() < limit) io.run_one_for(50ms);
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  guard.reset();
  server_io.stop();
  server_thread.join();
  EXPECT_EQ(done, workers);
  EXPECT_EQ(ok, workers * per_worker);
  std::printf("[ perf ] %d small POSTs, 64 in flight: %.0f requests/s over %zu connections\n", ok,
              ok / secs, server.connections());
}

}  // namespace
}  // namespace stopgate::carriers::http
