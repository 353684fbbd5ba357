// webhook_loadgen: load generator for the inbound STOP webhook benchmark.
//
//   webhook_loadgen --port 7601 --carrier tw --type twilio --secret TOKEN --to +14155552000 -c 50 -s 10
//   webhook_loadgen ... --rate 5000                  paced: 5,000 webhooks/s over all connections
//   webhook_loadgen ... --check-port 7700 --sender acme -s 5
//        one STOP at a time; after each 200, a socket-API check of the same number through the
//        gateway on --check-port (another gateway sharing the Redis): prints the time from the
//        200 to that gateway's answer, which must be a deny with reason optout
//
// Each request is a carrier-signed inbound "STOP" (tools/fake_carrier/webhooks.hpp) with a
// unique carrier message id from a distinct consumer number, POSTed over HTTP/1.1 keep-alive
// connections, one request in flight per connection. Prints requests/s and latency
// percentiles from the write to the complete response; non-2xx answers are counted.
#include "tools/fake_carrier/webhooks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace po = boost::program_options;
namespace config = stopgate::config;
namespace fake = stopgate::fake_carrier;
using clk = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 7601;
  std::string carrier = "sandbox";  // the carrier's config name (the path segment)
  std::string type = "sandbox";     // twilio | sandbox
  std::string secret;               // twilio auth token / sandbox webhook secret ("" = unsigned sandbox)
  std::string base_url;             // the URL the gateway rebuilds; default http://HOST:PORT
  std::string to = "+14155552000";  // our number (owned by a sender)
  std::string body = "STOP";
  std::string run_id;               // prefix of the message ids (unique per run)
  int connections = 50;
  double seconds = 10;
  double rate = 0;
  int check_port = 0;  // 0: off
  std::string sender;
  std::string latency_log;  // "": none; else one line per request: start (us into the run), latency (us)
  clk::time_point t0{};     // the run's start, for latency_log
};

struct stats {
  std::uint64_t requests = 0, not_2xx = 0;
  std::vector<double> latency_us;
  std::vector<double> started_us;  // only with --latency-log
};

config::carrier_settings carrier_of(const options& o) {
  config::carrier_settings c;
  c.name = o.carrier;
  if (o.type == "twilio") {
    c.type = config::carrier_type::twilio;
    c.credentials = config::twilio_credentials{"AC0000000000000000000000000000fa4e", config::secret::from_inline(o.secret)};
  } else {
    c.type = config::carrier_type::sandbox;
    config::sandbox_credentials k;
    if (!o.secret.empty()) k.webhook_secret = config::secret::from_inline(o.secret);
    c.credentials = k;
  }
  return c;
}

std::string consumer(std::uint64_t n) {
  // Distinct valid NANP numbers: 212-2XX-XXXX style, exchange 200..999, never 555-01xx.
  char buf[16];
  std::snprintf(buf, sizeof buf, "+1212%03d%04d", int(200 + (n / 10000) % 800), int(n % 10000));
  return buf;
}

asio::awaitable<void> run_connection(const options& o, const config::carrier_settings& c, stats& st,
                                     clk::time_point end, int index) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver res(ex);
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(co_await res.async_resolve(o.host, std::to_string(o.port), asio::use_awaitable),
                                asio::use_awaitable);
  stream.socket().set_option(asio::ip::tcp::no_delay(true));
  beast::flat_buffer buf;
  const auto gap = o.rate > 0 ? std::chrono::duration_cast<clk::duration>(
                                    std::chrono::duration<double>(double(o.connections) / o.rate))
                              : clk::duration::zero();
  auto next_due = clk::now() + gap * index / std::max(1, o.connections);
  asio::steady_timer pace(ex);
  for (std::uint64_t i = 0; clk::now() < end; ++i) {
    if (gap > clk::duration::zero()) {
      if (clk::now() < next_due) {
        pace.expires_at(next_due);
        co_await pace.async_wait(asio::use_awaitable);
      }
      next_due += gap;
    }
    // Every request of a run comes from a different consumer (runs start at a point derived
    // from the run id, so consecutive runs mostly use fresh numbers too).
    const std::uint64_t n = std::hash<std::string>{}(o.run_id) + i * std::uint64_t(o.connections) + std::uint64_t(index);
    fake::inbound_spec m{o.run_id + "-" + std::to_string(index) + "-" + std::to_string(i),
                         consumer(n % 8'000'000), o.to, o.body};
    auto w = fake::inbound_webhook(c, o.base_url, m, std::chrono::system_clock::now());
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, w.path, 11};
    req.set(bhttp::field::host, o.host);
    req.set(bhttp::field::content_type, w.content_type);
    for (auto& [k, v] : w.headers) req.set(k, v);
    req.body() = std::move(w.body);
    req.prepare_payload();
    const auto started = clk::now();
    co_await bhttp::async_write(stream, req, asio::use_awaitable);
    bhttp::response<bhttp::string_body> resp;
    co_await bhttp::async_read(stream, buf, resp, asio::use_awaitable);
    st.latency_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - started).count());
    if (!o.latency_log.empty())
      st.started_us.push_back(std::chrono::duration<double, std::micro>(started - o.t0).count());
    ++st.requests;
    if (resp.result_int() / 100 != 2) {
      if (++st.not_2xx <= 3) std::fprintf(stderr, "HTTP %u: %s\n", resp.result_int(), resp.body().c_str());
    }
  }
}

// --check-port: STOP through the HTTP gateway, then check through the other gateway.
asio::awaitable<void> run_propagation(const options& o, const config::carrier_settings& c, stats& st,
                                      std::uint64_t& not_denied, clk::time_point end) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver res(ex);
  beast::tcp_stream web(ex);
  co_await web.async_connect(co_await res.async_resolve(o.host, std::to_string(o.port), asio::use_awaitable),
                             asio::use_awaitable);
  asio::ip::tcp::socket api(ex);
  co_await asio::async_connect(api, co_await res.async_resolve(o.host, std::to_string(o.check_port), asio::use_awaitable),
                               asio::use_awaitable);
  web.socket().set_option(asio::ip::tcp::no_delay(true));
  api.set_option(asio::ip::tcp::no_delay(true));
  beast::flat_buffer buf;
  asio::streambuf in;
  for (std::uint64_t i = 0; clk::now() < end; ++i) {
    const std::string from = consumer(7'000'000 + i);
    fake::inbound_spec m{o.run_id + "-p-" + std::to_string(i), from, o.to, o.body};
    auto w = fake::inbound_webhook(c, o.base_url, m, std::chrono::system_clock::now());
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, w.path, 11};
    req.set(bhttp::field::host, o.host);
    req.set(bhttp::field::content_type, w.content_type);
    for (auto& [k, v] : w.headers) req.set(k, v);
    req.body() = std::move(w.body);
    req.prepare_payload();
    co_await bhttp::async_write(web, req, asio::use_awaitable);
    bhttp::response<bhttp::string_body> resp;
    co_await bhttp::async_read(web, buf, resp, asio::use_awaitable);
    if (resp.result_int() / 100 != 2) {
      ++st.not_2xx;
      continue;
    }
    const auto acked = clk::now();
    const std::string check = "{\"op\":\"check\",\"id\":" + std::to_string(i) + ",\"to\":\"" + from +
                              "\",\"sender\":\"" + o.sender + "\",\"purpose\":\"informational\"}\n";
    co_await asio::async_write(api, asio::buffer(check), asio::use_awaitable);
    const auto n = co_await asio::async_read_until(api, in, '\n', asio::use_awaitable);
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + std::ptrdiff_t(n));
    in.consume(n);
    st.latency_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - acked).count());
    ++st.requests;
    if (line.find("\"decision\":\"deny\"") == std::string::npos || line.find("\"optout\"") == std::string::npos) {
      if (++not_denied <= 3) std::fprintf(stderr, "not denied after the 200: %s", line.c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  po::options_description desc("webhook_loadgen: signed inbound STOP webhooks against a stopgate HTTP listener");
  desc.add_options()("help,h", "this text")("host", po::value(&o.host)->default_value(o.host), "gateway host")(
      "port", po::value(&o.port)->default_value(o.port), "gateway HTTP port")(
      "carrier", po::value(&o.carrier)->default_value(o.carrier), "the carrier's config name (/v1/inbound/NAME)")(
      "type", po::value(&o.type)->default_value(o.type), "twilio or sandbox: the wire format and signature")(
      "secret", po::value(&o.secret), "twilio auth token, or the sandbox webhook secret (none: unsigned sandbox)")(
      "base-url", po::value(&o.base_url), "the URL the gateway rebuilds for signatures (default http://HOST:PORT)")(
      "to", po::value(&o.to)->default_value(o.to), "our number the STOPs are written to (owned by a sender)")(
      "body", po::value(&o.body)->default_value(o.body), "message text")(
      "run-id", po::value(&o.run_id), "message id prefix (default: the current time; ids must be new per run)")(
      "connections,c", po::value(&o.connections)->default_value(o.connections), "keep-alive connections")(
      "seconds,s", po::value(&o.seconds)->default_value(o.seconds), "duration")(
      "rate", po::value(&o.rate)->default_value(0), "webhooks per second over all connections (0: unpaced)")(
      "check-port", po::value(&o.check_port)->default_value(0),
      "socket API port of a second gateway: measure the time from each 200 to its deny")(
      "sender", po::value(&o.sender), "sender name for --check-port checks")(
      "latency-log", po::value(&o.latency_log),
      "write one line per request to this file: its start (us into the run) and its latency (us)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (o.type != "twilio" && o.type != "sandbox") {
    std::cerr << "--type: twilio or sandbox\n";
    return 2;
  }
  if (o.base_url.empty()) o.base_url = "http://" + o.host + ":" + std::to_string(o.port);
  if (o.run_id.empty())
    o.run_id = "lg" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  const auto carrier = carrier_of(o);
  asio::io_context io;
  if (o.check_port > 0) {
    stats ps;
    std::uint64_t not_denied = 0;
    const auto pend = clk::now() + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.seconds));
    bool failed = false;
    asio::co_spawn(io, run_propagation(o, carrier, ps, not_denied, pend), [&](std::exception_ptr e) {
      if (!e) return;
      failed = true;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "propagation run failed: %s\n", ex.what());
      }
    });
    io.run();
    std::sort(ps.latency_us.begin(), ps.latency_us.end());
    auto at = [&](double p) {
      return ps.latency_us.empty() ? 0.0 : ps.latency_us[std::min(ps.latency_us.size() - 1, std::size_t(p * double(ps.latency_us.size())))];
    };
    std::printf("propagation: %llu STOPs acknowledged, %llu not denied by the other gateway, %llu not 2xx; "
                "200 -> other gateway's deny: p50 %.0f us, p99 %.0f us, max %.0f us\n",
                static_cast<unsigned long long>(ps.requests), static_cast<unsigned long long>(not_denied),
                static_cast<unsigned long long>(ps.not_2xx), at(0.5), at(0.99), ps.latency_us.empty() ? 0.0 : ps.latency_us.back());
    return !failed && not_denied == 0 && ps.not_2xx == 0 ? 0 : 1;
  }
  std::vector<stats> st(std::size_t(o.connections));
  const auto start = clk::now();
  o.t0 = start;
  const auto end = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.seconds));
  int failed = 0;
  for (int i = 0; i < o.connections; ++i)
    asio::co_spawn(io, run_connection(o, carrier, st[std::size_t(i)], end, i), [&](std::exception_ptr e) {
      if (!e) return;
      ++failed;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "connection failed: %s\n", ex.what());
      }
    });
  io.run();
  const double secs = std::chrono::duration<double>(clk::now() - start).count();
  if (!o.latency_log.empty()) {
    std::FILE* f = std::fopen(o.latency_log.c_str(), "w");
    if (f == nullptr) {
      std::perror(o.latency_log.c_str());
      return 1;
    }
    for (auto& s : st)
      for (std::size_t i = 0; i < s.started_us.size(); ++i)
        std::fprintf(f, "%.0f %.0f\n", s.started_us[i], s.latency_us[i]);
    std::fclose(f);
  }
  stats all;
  for (auto& s : st) {
    all.requests += s.requests;
    all.not_2xx += s.not_2xx;
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto pct = [&](double p) {
    if (all.latency_us.empty()) return 0.0;
    return all.latency_us[std::min(all.latency_us.size() - 1, std::size_t(p * double(all.latency_us.size())))];
  };
  std::printf("requests %llu (%llu not 2xx), %.1f s: %.0f requests/s; latency p50 %.0f us, p99 %.0f us\n",
              static_cast<unsigned long long>(all.requests), static_cast<unsigned long long>(all.not_2xx), secs,
              double(all.requests) / secs, pct(0.50), pct(0.99));
  return failed == 0 && all.not_2xx == 0 ? 0 : 1;
}
