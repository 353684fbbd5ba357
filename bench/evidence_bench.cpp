// Evidence log benchmark (issue 3 item 10): durable records/s and fdatasyncs/s with 1, 64 and
// 1,024 concurrent appenders against one write + fdatasync per record measured in the same
// run; append latency percentiles; verify MB/s. A plain program (its own main) because the
// appender counts and the baseline do not map onto Google Benchmark's iteration model.
//
// usage: evidence_bench [DIR] [--quick] [--only K]   (DIR defaults to ./evidence-bench, wiped
// first; --only K runs just the K-appender row, e.g. under callgrind)
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/verify.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace ev = stopgate::evidence;
using steady = std::chrono::steady_clock;

namespace {

boost::json::object sample_fields(std::uint64_t i) {
  boost::json::object f;
  f["to"] = "+14155552671";
  f["from"] = "+12125551234";
  f["sender"] = "default";
  f["purpose"] = "marketing";
  f["decision"] = "allow";
  f["reasons"] = boost::json::array{"dnc_clear", "window_open", "consent_found"};
  f["request_id"] = "req-" + std::to_string(i);
  f["lists"] = boost::json::object{{"ftc", "gen-42"}, {"internal", "gen-7"}};
  return f;
}

double baseline_per_second(const std::filesystem::path& dir, int n, std::size_t line_size) {
  const auto path = dir / "baseline.jsonl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0640);
  const std::string line(line_size - 1, 'x');
  const std::string data = line + "\n";
  const auto t0 = steady::now();
  for (int i = 0; i < n; ++i) {
    if (::write(fd, data.data(), data.size()) != ssize_t(data.size()) || ::fdatasync(fd) != 0) {
      std::perror("baseline");
      break;
    }
  }
  const double s = std::chrono::duration<double>(steady::now() - t0).count();
  ::close(fd);
  std::filesystem::remove(path);
  return n / s;
}

struct run_result {
  int appenders;
  std::uint64_t records, fsyncs;
  double seconds, p50_us, p99_us, max_us;
};

run_result run(const std::filesystem::path& dir, int appenders, std::uint64_t total) {
  std::filesystem::remove_all(dir);
  ev::options opts;
  opts.dir = dir;
  opts.instance = "bench";
  opts.hmac_key = "benchmark-key-benchmark-key-0123";
  auto log = ev::log::open(opts).value();
  boost::asio::io_context ctx[2];
  std::atomic<std::uint64_t> issued{0};
  std::vector<std::vector<float>> lat(static_cast<std::size_t>(appenders));
  for (auto& l : lat) l.reserve(total / std::uint64_t(appenders) + 2);
  for (int a = 0; a < appenders; ++a) {
    boost::asio::co_spawn(
        ctx[a % 2],
        [&, a]() -> boost::asio::awaitable<void> {
          while (true) {
            const auto i = issued.fetch_add(1);
            if (i >= total) co_return;
            const auto t0 = steady::now();
            auto r = co_await log->async_append(ev::record_type::decision, sample_fields(i));
            if (!r) {
              std::fprintf(stderr, "append failed: %s\n", r.error().message().c_str());
              co_return;
            }
            lat[std::size_t(a)].push_back(
                float(std::chrono::duration<double, std::micro>(steady::now() - t0).count()));
          }
        },
        boost::asio::detached);
  }
  const auto t0 = steady::now();
  std::thread t([&] { ctx[1].run(); });
  ctx[0].run();
  t.join();
  const double s = std::chrono::duration<double>(steady::now() - t0).count();
  const auto c = log->counters();
  log->close();
  std::vector<float> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::size_t(p * double(all.size() - 1))]; };
  return {appenders, total, c.fsyncs, s, pct(0.50), pct(0.99), all.empty() ? 0.0 : all.back()};
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path base = "evidence-bench";
  bool quick = false;
  int only = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--only" && i + 1 < argc) only = std::atoi(argv[++i]);
    else base = a;
  }
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  const int baseline_n = quick ? 500 : 3000;
  const double baseline = baseline_per_second(base, baseline_n, 330);
  std::printf("baseline: one write + fdatasync per record: %.0f records/s (%d records)\n\n",
              baseline, baseline_n);
  std::printf("| appenders | records | seconds | durable records/s | fdatasyncs/s | records per fdatasync | x baseline | p50 append | p99 append | max append |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const std::uint64_t scale = quick ? 5 : 1;
  const std::pair<int, std::uint64_t> runs[] = {{1, 3000}, {64, 100000}, {1024, 400000}};
  for (const auto& [k, n] : runs) {
    if (only != 0 && k != only) continue;
    const auto r = run(base / ("log-" + std::to_string(k)), k, n / scale);
    const double rps = double(r.records) / r.seconds;
    std::printf("| %d | %llu | %.2f | %.0f | %.0f | %.1f | %.1f | %.2f ms | %.2f ms | %.2f ms |\n",
                k, (unsigned long long)r.records, r.seconds, rps, double(r.fsyncs) / r.seconds,
                double(r.records) / double(r.fsyncs), rps / baseline, r.p50_us / 1000,
                r.p99_us / 1000, r.max_us / 1000);
    std::fflush(stdout);
  }
  // Verify the largest log: cold (after dropping it from the page cache is not possible
  // without root) - this is the warm-cache figure.
  const auto dir = base / "log-1024";
  if (!std::filesystem::exists(dir)) return 0;
  auto v = ev::verify_directory(dir, "benchmark-key-benchmark-key-0123");
  if (!v || v->failure) {
    std::printf("verify failed\n");
    return 1;
  }
  std::printf("\nverify: %llu records, %.1f MB in %.3f s = %.0f MB/s (checkpoints checked: %llu)\n",
              (unsigned long long)v->records, double(v->bytes) / 1e6, v->seconds,
              double(v->bytes) / 1e6 / v->seconds, (unsigned long long)v->checkpoints_checked);
  std::filesystem::remove_all(base);
  return 0;
}
