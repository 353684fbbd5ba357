// stopgate_loadgen: load generator for the socket API benchmarks.
//
//   stopgate_loadgen --port 7600 --connections 50 --depth 64 --seconds 10            single checks, pipelined
//   stopgate_loadgen --port 7600 --connections 4 --depth 2 --batch 1000 --seconds 10  batches of 1,000
//   stopgate_loadgen --port 7600 --idle --seconds 5                                  one request at a time
//   stopgate_loadgen --port 7600 --op send --purpose informational -c 50 -d 1         sends (check + relay)
//   stopgate_loadgen --port 7600 --op send -c 50 -d 1 --rate 5000                    paced: 5,000 requests/s
//   stopgate_loadgen --port 7600 --op optout -c 16 -d 1                               API opt-outs (sender from --sender)
//   stopgate_loadgen --port 7600 --op send --mode queue -c 50 -d 1                    queued sends
//   stopgate_loadgen --port 7600 --op send --mode queue --numbers FILE --count 100000 a campaign: each number of FILE once
//
// Prints requests/s, numbers/s and latency percentiles (per request, from the write that
// carried it to the read that brought its response line, matched by id). A response that is
// not ok, or whose id names no request in flight, counts as an error. Numbers come from a
// pool of valid NANP numbers, or from --numbers FILE (one E.164 number a line, taken in order
// by all connections together). Queued sends (--mode queue) count "queued" answers and, of
// those, the held ones (answers with a retry_at: deferred by the rules, or a later send_at).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace po = boost::program_options;
using clk = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 7600;
  int connections = 50;
  int depth = 64;
  int batch = 0;  // 0: "to" is one number
  double seconds = 10;
  std::string sender, key, purpose = "marketing";
  std::string op = "check";  // check | send
  std::string body = "stopgate load test";
  double rate = 0;  // requests/s over all connections; 0: as fast as the pipeline allows
  bool idle = false;
  std::string mode;        // send: "sync" | "queue" | "" (the gateway's default)
  std::string send_at;     // send: RFC 3339, with --mode queue
  std::string campaign;    // send/check: campaign name
  std::string numbers;     // file of numbers; "" = the built-in pool
  std::uint64_t count = 0; // total requests over all connections; 0 = until --seconds
};

// What the connections share: the next number of a --numbers file, requests issued (--count).
struct shared_state {
  std::size_t cursor = 0;
  std::uint64_t issued = 0;
};

struct stats {
  std::uint64_t requests = 0, numbers = 0, errors = 0, sent = 0, queued = 0, held = 0;
  std::vector<double> latency_us;
};

std::vector<std::string> number_pool(std::size_t n) {
  std::mt19937_64 rng(11);
  std::vector<std::string> out;
  static const int npas[] = {212, 213, 305, 312, 415, 469, 512, 617, 702, 713, 808, 917};
  while (out.size() < n) {
    const int npa = npas[rng() % (sizeof npas / sizeof npas[0])];
    const int nxx = 200 + int(rng() % 800);
    const int line = int(rng() % 10000);
    if (nxx == 555 && line >= 100 && line <= 199) continue;
    char buf[16];
    std::snprintf(buf, sizeof buf, "+1%03d%03d%04d", npa, nxx, line);
    out.emplace_back(buf);
  }
  return out;
}

// The request text around the id and the number, built once per run.
struct request_parts {
  std::string head;  // {"op":"check","id":
  std::string mid;   // ,...,"to":
  explicit request_parts(const options& o) : head("{\"op\":\"" + o.op + "\",\"id\":") {
    if (o.op == "send") mid += ",\"body\":\"" + o.body + "\"";
    if (o.op == "send" && !o.mode.empty()) mid += ",\"mode\":\"" + o.mode + "\"";
    if (o.op == "send" && !o.send_at.empty()) mid += ",\"send_at\":\"" + o.send_at + "\"";
    if (o.op != "optout" && !o.campaign.empty()) mid += ",\"campaign\":\"" + o.campaign + "\"";
    if (!o.sender.empty()) mid += ",\"sender\":\"" + o.sender + "\"";
    // (An opt-out has no purpose: the gateway refuses fields an op does not define.)
    if (o.op == "optout")
      mid += ",\"source\":{\"channel\":\"bench\"},\"to\":";
    else
      mid += ",\"purpose\":\"" + o.purpose + "\",\"to\":";
  }
};

void append_request(std::string& out, const options& o, const request_parts& parts,
                    const std::vector<std::string>& pool, std::uint64_t id, std::size_t& cursor) {
  out += parts.head;
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, id).ptr);
  out += parts.mid;
  auto number = [&] {
    out += '"';
    out += pool[cursor++ % pool.size()];
    out += '"';
  };
  if (o.batch <= 0) {
    number();
  } else {
    out += '[';
    for (int i = 0; i < o.batch; ++i) {
      if (i) out += ',';
      number();
    }
    out += ']';
  }
  out += "}\n";
}

// The id a response line echoes (it starts {"id":N), or nullopt.
std::optional<std::uint64_t> response_id(std::string_view line) {
  constexpr std::string_view head = "{\"id\":";
  if (!line.starts_with(head)) return std::nullopt;
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(line.data() + head.size(), line.data() + line.size(), id);
  if (ec != std::errc() || p == line.data() + line.size() || *p != ',') return std::nullopt;
  return id;
}

struct in_flight {
  std::uint64_t id;
  clk::time_point sent;
};

asio::awaitable<void> run_connection(const options& o, const std::vector<std::string>& pool, stats& st,
                                     clk::time_point end, int index, shared_state& shared) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::socket sock(ex);
  asio::ip::tcp::resolver res(ex);
  auto eps = co_await res.async_resolve(o.host, std::to_string(o.port), asio::use_awaitable);
  co_await asio::async_connect(sock, eps, asio::use_awaitable);
  sock.set_option(asio::ip::tcp::no_delay(true));
  // Responses are read into `in`; [begin, end_) is what is not yet consumed.
  std::vector<char> in(1 << 16);
  std::size_t begin = 0, filled = 0;
  auto read_more = [&]() -> asio::awaitable<void> {
    if (begin > 0) {
      std::memmove(in.data(), in.data() + begin, filled - begin);
      filled -= begin;
      begin = 0;
    }
    if (filled == in.size()) in.resize(in.size() * 2);
    filled += co_await sock.async_read_some(asio::buffer(in.data() + filled, in.size() - filled), asio::use_awaitable);
  };
  // The next complete line (without its newline), or nullopt.
  auto next_line = [&]() -> std::optional<std::string_view> {
    const char* nl = static_cast<const char*>(std::memchr(in.data() + begin, '\n', filled - begin));
    if (!nl) return std::nullopt;
    std::string_view line(in.data() + begin, std::size_t(nl - (in.data() + begin)));
    begin += line.size() + 1;
    return line;
  };
  if (!o.key.empty()) {
    std::string auth = "{\"op\":\"auth\",\"id\":0,\"key\":\"" + o.key + "\"}\n";
    co_await asio::async_write(sock, asio::buffer(auth), asio::use_awaitable);
    while (!next_line()) co_await read_more();
  }
  const request_parts parts(o);
  std::size_t own_cursor = std::size_t(index) * 7919;
  std::size_t& cursor = o.numbers.empty() ? own_cursor : shared.cursor;
  std::uint64_t next_id = 1;
  // The server may answer out of order: each response is matched to its request by id.
  std::deque<in_flight> sent;
  const int depth = o.idle ? 1 : std::max(1, o.depth);
  std::string out;
  bool stopping = false;
  // --rate: this connection's share, one request every `gap` (open loop up to `depth`).
  const auto gap = o.rate > 0 ? std::chrono::duration_cast<clk::duration>(
                                    std::chrono::duration<double>(double(o.connections) / o.rate))
                              : clk::duration::zero();
  auto next_due = clk::now() + gap * index / std::max(1, o.connections);
  asio::steady_timer pace(ex);
  while (true) {
    if (gap > clk::duration::zero() && !stopping && int(sent.size()) < depth && sent.empty() &&
        clk::now() < next_due) {
      pace.expires_at(next_due);
      co_await pace.async_wait(asio::use_awaitable);
    }
    // Fill the pipeline (paced: only the requests that are due); they go out in one write.
    out.clear();
    const auto now = clk::now();
    while (!stopping && int(sent.size()) < depth && (gap == clk::duration::zero() || now >= next_due)) {
      if (o.count > 0 && shared.issued >= o.count) {
        stopping = true;
        break;
      }
      ++shared.issued;
      append_request(out, o, parts, pool, next_id, cursor);
      sent.push_back({next_id++, now});
      next_due += gap;
    }
    if (!out.empty()) co_await asio::async_write(sock, asio::buffer(out), asio::use_awaitable);
    if (sent.empty()) break;
    co_await read_more();
    // Consume every complete line already read.
    const auto received = clk::now();
    while (auto line = next_line()) {
      const auto id = response_id(*line);
      auto it = sent.begin();
      if (id && it->id != *id) it = std::find_if(sent.begin(), sent.end(), [&](const in_flight& f) { return f.id == *id; });
      // An answer to no request in flight is an error; the oldest request is taken as answered.
      const bool known = id && it != sent.end();
      if (!known) it = sent.begin();
      st.latency_us.push_back(std::chrono::duration<double, std::micro>(received - it->sent).count());
      sent.erase(it);
      ++st.requests;
      st.numbers += o.batch > 0 ? std::uint64_t(o.batch) : 1;
      if (!known || line->find("\"ok\":true") == std::string_view::npos) ++st.errors;
      if (o.op == "send" && line->find("\"status\":\"sent\"") != std::string_view::npos) ++st.sent;
      if (o.op == "send" && line->find("\"status\":\"queued\"") != std::string_view::npos) {
        ++st.queued;
        if (line->find("\"retry_at\"") != std::string_view::npos) ++st.held;
      }
    }
    if (clk::now() >= end) stopping = true;
  }
}

int main(int argc, char** argv) {
  options o;
  po::options_description desc("stopgate_loadgen: load for the stopgate socket API");
  desc.add_options()("help,h", "this text")("host", po::value(&o.host)->default_value(o.host), "gateway host")(
      "port", po::value(&o.port)->default_value(o.port), "socket API port")(
      "connections,c", po::value(&o.connections)->default_value(o.connections), "connections")(
      "depth,d", po::value(&o.depth)->default_value(o.depth), "requests in flight per connection")(
      "batch,b", po::value(&o.batch)->default_value(0), "numbers per check request (0: one number as a string)")(
      "seconds,s", po::value(&o.seconds)->default_value(o.seconds), "duration")(
      "sender", po::value(&o.sender), "sender name")("purpose", po::value(&o.purpose)->default_value(o.purpose), "purpose")(
      "key", po::value(&o.key), "API key")("idle", po::bool_switch(&o.idle), "one connection, one request at a time")(
      "op", po::value(&o.op)->default_value(o.op), "check, send or optout")(
      "body", po::value(&o.body)->default_value(o.body), "message body for --op send (plain ASCII)")(
      "rate", po::value(&o.rate)->default_value(0), "requests per second over all connections (0: unpaced)")(
      "mode", po::value(&o.mode), "send mode: sync or queue (default: the gateway's)")(
      "send-at", po::value(&o.send_at), "send_at (RFC 3339) for --mode queue")(
      "campaign", po::value(&o.campaign), "campaign name")(
      "numbers", po::value(&o.numbers), "file of E.164 numbers, one a line, used in order by all connections")(
      "count", po::value(&o.count)->default_value(0), "stop after this many requests in all (0: --seconds decides)");
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
  if (o.idle) o.connections = 1;
  if (o.op != "check" && o.op != "send" && o.op != "optout") {
    std::cerr << "--op: check, send or optout\n";
    return 2;
  }
  if (o.op != "check" && o.batch > 0) {
    std::cerr << "--batch: only for --op check\n";
    return 2;
  }
  std::vector<std::string> pool;
  if (!o.numbers.empty()) {
    std::ifstream in(o.numbers);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) pool.push_back(line);
    if (pool.empty()) {
      std::cerr << "--numbers: no numbers in " << o.numbers << "\n";
      return 2;
    }
  } else {
    pool = number_pool(1 << 16);
  }
  shared_state shared;
  asio::io_context io;
  std::vector<stats> st(std::size_t(o.connections));
  const auto start = clk::now();
  const auto end = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.seconds));
  int failed = 0;
  for (int i = 0; i < o.connections; ++i)
    asio::co_spawn(io, run_connection(o, pool, st[std::size_t(i)], end, i, shared), [&](std::exception_ptr e) {
      if (e) {
        ++failed;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::fprintf(stderr, "connection failed: %s\n", ex.what());
        }
      }
    });
  io.run();
  const double secs = std::chrono::duration<double>(clk::now() - start).count();
  stats all;
  for (auto& s : st) {
    all.requests += s.requests;
    all.numbers += s.numbers;
    all.errors += s.errors;
    all.sent += s.sent;
    all.queued += s.queued;
    all.held += s.held;
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto pct = [&](double p) {
    if (all.latency_us.empty()) return 0.0;
    return all.latency_us[std::min(all.latency_us.size() - 1, std::size_t(p * double(all.latency_us.size())))];
  };
  std::printf("requests %llu (%llu not ok), %.1f s: %.0f requests/s, %.0f numbers/s; latency p50 %.0f us, p99 %.0f us\n",
              static_cast<unsigned long long>(all.requests), static_cast<unsigned long long>(all.errors), secs,
              double(all.requests) / secs, double(all.numbers) / secs, pct(0.50), pct(0.99));
  if (o.op == "send") std::printf("sent %llu\n", static_cast<unsigned long long>(all.sent));
  if (o.op == "send" && o.mode == "queue")
    std::printf("queued %llu (held %llu)\n", static_cast<unsigned long long>(all.queued),
                static_cast<unsigned long long>(all.held));
  return failed == 0 && all.errors == 0 ? 0 : 1;
}
