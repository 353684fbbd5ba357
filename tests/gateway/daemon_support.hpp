// The stopgate daemon in end-to-end tests: its config, the process, the socket API and HTTP
// calls, and signed sandbox STOP webhooks (daemon_test.cpp, cluster_daemon_test.cpp).
#pragma once

#include "config/settings.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/fake_carrier/webhooks.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::test::gwtest {

namespace json = boost::json;
namespace asio = boost::asio;

// The URL the gateway's webhooks are signed for.
inline constexpr std::string_view daemon_public_url = "https://gw.example.com";

inline std::string config_text(const temp_dir& d, const std::string& redis_url, int api_port, int http_port,
                        const std::string& instance, const std::string& extra = "") {
  return "[server]\ndata_dir = \"" + d.path().string() + "/" + instance + "\"\ninstance = \"" + instance +
         "\"\nthreads = 2\nshutdown_grace_ms = 2000\n"
         "[api]\nlisten = \"127.0.0.1:" + std::to_string(api_port) + "\"\n"
         "[http]\nlisten = \"127.0.0.1:" + std::to_string(http_port) + "\"\npublic_url = \"" + std::string(daemon_public_url) + "\"\n"
         "[redis]\nurl = \"" + redis_url + "\"\ntimeout_ms = 300\nreconnect_min_ms = 20\nreconnect_max_ms = 200\n"
         "[evidence]\nhmac_key = \"file:evidence.key\"\n"
         "[carriers.sandbox]\ntype = \"sandbox\"\nwebhook_secret = \"sandbox-secret\"\n"
         "[senders.acme]\nnumbers = [\"+14155552000\"]\nroute = [\"sandbox\"]\n"
         "[senders.other]\nnumbers = [\"+14155552001\"]\nroute = [\"sandbox\"]\n"
         "[lists.internal]\nkind = \"internal\"\n" + extra;
}

struct gateway_proc {
  int api_port = free_port();
  int http_port = free_port();
  std::filesystem::path config;
  std::unique_ptr<process> proc;

  gateway_proc(const temp_dir& d, const redis_server& r, const std::string& instance, const std::string& extra = "")
      : gateway_proc(d, r.tcp_url(), instance, extra) {}
  gateway_proc(const temp_dir& d, const std::string& redis_url, const std::string& instance,
               const std::string& extra = "") {
    config = d.write(instance + ".toml", config_text(d, redis_url, api_port, http_port, instance, extra));
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", config.string()},
        d.path() / (instance + ".log"));
  }
  line_client client() { return line_client(api_port); }
};

inline json::object check(line_client& c, const std::string& to, const std::string& sender = "acme",
                   const std::string& extra_json = "") {
  auto req = json::parse("{\"op\":\"check\",\"to\":\"" + to + "\",\"sender\":\"" + sender + "\"" + extra_json + "}");
  return c.call(req.as_object());
}

// Sends a whole raw HTTP request and returns the whole raw response (read until the server
// closes).
inline std::string http_exchange(int port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  // The gateway opens its HTTP listener after the socket API's: a test that has just connected
  // to the API may be a moment early. Connecting is retried (bounded); nothing else is.
  for (int i = 0; i < 250; ++i) {
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    if (!ec) break;
    s.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (ec) return {};
  asio::write(s, asio::buffer(request), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

// One HTTP/1.1 request with Connection: close; returns the whole raw response.
inline std::string http_request(int port, const std::string& method, const std::string& path,
                                const std::string& body = "") {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  return http_exchange(port, req);
}

inline bool ready_now(const gateway_proc& gw) {
  return http_request(gw.http_port, "GET", "/readyz").find("200 OK") != std::string::npos;
}

// Waits up to 5 s for /readyz to say `want`.
inline bool wait_ready(const gateway_proc& gw, bool want) {
  for (int i = 0; i < 200; ++i) {
    if (ready_now(gw) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// Sends `req` until it is answered ok (the contact store is set up once Redis answered; after
// a failover, once the new primary is known), at most `tries` times 25 ms apart; the last answer.
inline json::object call_until_ok(line_client& c, const json::object& req, int tries = 200) {
  json::object o;
  for (int i = 0; i < tries; ++i) {
    o = c.call(req);
    if (o["ok"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return o;
}

inline std::vector<std::string> reasons(const json::object& resp) {
  std::vector<std::string> out;
  for (auto& r : resp.at("result").at("reasons").as_array()) out.emplace_back(r.as_string());
  return out;
}

inline const std::string express_consent =
    R"(,"kind":"express_written","captured_at":"2026-01-02T03:04:05Z","source":{"method":"web_form","url":"https://acme.example/join","text":"I agree to receive marketing texts from Acme."})";

// Quiet hours never apply at this instant (noon Eastern on a Wednesday).
inline const std::string noon = R"(,"at":"2026-12-02T17:00:00Z")";

// The sandbox carrier as the gateway's config defines it (its webhook secret).
inline config::carrier_settings sandbox_carrier() {
  config::carrier_settings c;
  c.name = "sandbox";
  c.type = config::carrier_type::sandbox;
  config::sandbox_credentials k;
  k.webhook_secret = config::secret::from_inline("sandbox-secret");
  c.credentials = k;
  return c;
}

// Posts a signed sandbox inbound message (a STOP) to the gateway's HTTP port; the HTTP status
// (0 when the gateway does not answer).
inline int post_inbound(int http_port, const std::string& id, const std::string& from,
                        const std::string& to, const std::string& body) {
  auto w = fake_carrier::inbound_webhook(sandbox_carrier(), std::string(daemon_public_url),
                                         {id, from, to, body}, std::chrono::system_clock::now());
  const std::string out = http_exchange(http_port, fake_carrier::to_http(w));
  return out.size() >= 12 ? std::stoi(out.substr(9, 3)) : 0;
}

}  // namespace stopgate::test::gwtest
