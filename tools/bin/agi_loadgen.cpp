// agi_loadgen: load generator for the FastAGI benchmark (bench/dialer.sh).
//
//   agi_loadgen --port 4573 -c 32 -s 10 --to +12125552671 --to +13125552671
//
// Each of -c concurrent workers (spread over -t threads) runs FastAGI sessions back to back, exactly as Asterisk's
// res_agi does: connect, write the agi_* block (the numbers taken in turn from --to), answer
// every SET VARIABLE with "200 result=1" until the server closes. Prints sessions per second,
// the decisions seen, and latency percentiles from the connect to the close (one check each).
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using clk = std::chrono::steady_clock;

struct options {
  int port = 4573;
  int threads = 2;
  int connections = 32;
  int seconds = 10;
  std::vector<std::string> to;
  std::string args = "acme,marketing,manual";  // the arguments after the number
};

struct totals {
  std::vector<double> latency_us;
  std::map<std::string, std::uint64_t> decisions;
  std::uint64_t errors = 0;
};

std::string environment(const std::string& number, const std::string& args, std::uint64_t n) {
  std::string s =
      "agi_network: yes\nagi_network_script: check\nagi_request: agi://127.0.0.1/check\n"
      "agi_channel: PJSIP/bench-00000001\nagi_language: en\nagi_type: PJSIP\nagi_uniqueid: bench." +
      std::to_string(n) +
      "\nagi_version: 20.5.0\nagi_callerid: unknown\nagi_calleridname: unknown\nagi_callingpres: "
      "0\n"
      "agi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\nagi_dnid: unknown\nagi_rdnis: "
      "unknown\n"
      "agi_context: default\nagi_extension: s\nagi_priority: 1\nagi_enhanced: "
      "0.0\nagi_accountcode: \n"
      "agi_threadid: 1\nagi_arg_1: " +
      number + "\n";
  int i = 2;
  std::size_t start = 0;
  while (start <= args.size() && !args.empty()) {
    std::size_t comma = args.find(',', start);
    s += "agi_arg_" + std::to_string(i++) + ": " + args.substr(start, comma - start) + "\n";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return s + "\n";
}

asio::awaitable<void> worker(const options& o, int id, clk::time_point until, totals& t) {
  auto ex = co_await asio::this_coro::executor;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), std::uint16_t(o.port));
  std::uint64_t n = std::uint64_t(id) << 32;
  while (clk::now() < until) {
    const std::string& number = o.to[n % o.to.size()];
    const auto started = clk::now();
    asio::ip::tcp::socket s(ex);
    boost::system::error_code ec;
    co_await s.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++t.errors;
      continue;
    }
    s.set_option(asio::ip::tcp::no_delay(true), ec);
    co_await asio::async_write(s, asio::buffer(environment(number, o.args, n++)),
                               asio::redirect_error(asio::use_awaitable, ec));
    asio::streambuf buf;
    std::string decision;
    for (;;) {
      std::size_t len = co_await asio::async_read_until(
          s, buf, '\n', asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + len);
      buf.consume(len);
      constexpr std::string_view prefix = "SET VARIABLE STOPGATE_DECISION \"";
      if (line.rfind(prefix, 0) == 0)
        decision = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
      co_await asio::async_write(s, asio::buffer("200 result=1\n", 13),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (decision.empty()) {
      ++t.errors;
      continue;
    }
    ++t.decisions[decision];
    t.latency_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - started).count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  po::options_description desc("agi_loadgen options");
  desc.add_options()("help,h", "this help")("port,p", po::value(&o.port), "FastAGI port (4573)")(
      "connections,c", po::value(&o.connections), "concurrent sessions (32)")(
      "threads,t", po::value(&o.threads), "threads, each with its share of the sessions (2)")(
      "seconds,s", po::value(&o.seconds), "duration (10)")("to", po::value(&o.to)->multitoken(),
                                                           "numbers, used in turn (repeatable)")(
      "args", po::value(&o.args), "AGI arguments after the number (\"acme,marketing,manual\")");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "agi_loadgen: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help") || o.to.empty()) {
    std::cout << desc;
    return o.to.empty() && !vm.count("help") ? 2 : 0;
  }
  // One io_context per thread, each running its share of the sessions with its own totals.
  const int threads = std::max(1, std::min(o.threads, o.connections));
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<totals> per(static_cast<std::size_t>(threads));
  const auto started = clk::now();
  const auto until = started + std::chrono::seconds(o.seconds);
  for (int i = 0; i < threads; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  for (int i = 0; i < o.connections; ++i)
    asio::co_spawn(*ios[std::size_t(i % threads)], worker(o, i, until, per[std::size_t(i % threads)]), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&, i] { ios[std::size_t(i)]->run(); });
  for (auto& th : pool) th.join();
  totals t;
  for (auto& x : per) {
    t.latency_us.insert(t.latency_us.end(), x.latency_us.begin(), x.latency_us.end());
    for (auto& [d, n] : x.decisions) t.decisions[d] += n;
    t.errors += x.errors;
  }
  const double secs = std::chrono::duration<double>(clk::now() - started).count();
  auto& l = t.latency_us;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0.0 : l[std::min(l.size() - 1, std::size_t(p * l.size()))];
  };
  std::printf("sessions %zu in %.2f s: %.0f checks/s, errors %llu\n", l.size(), secs,
              double(l.size()) / secs, (unsigned long long)t.errors);
  std::printf("latency us: p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f\n", pct(0.5), pct(0.9),
              pct(0.99), pct(0.999), l.empty() ? 0.0 : l.back());
  for (auto& [d, n] : t.decisions)
    std::printf("decision %s: %llu\n", d.c_str(), (unsigned long long)n);
  return t.errors == 0 && !l.empty() ? 0 : 1;
}
