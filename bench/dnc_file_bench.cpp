// Throughput of the DNC file readers on an ftc file of 5M numbers, plain and gzip, from
// memory and from a file (page cache). items_per_second is numbers per second.
#include "dnc/lists/file.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace stopgate::dnc::lists;

constexpr int numbers = 5'000'000;

// Valid NANP numbers, mostly 10 digits with every tenth in the NPA,NNNNNNN form.
const std::string& ftc_text() {
  static const std::string text = [] {
    std::mt19937_64 rng(42);
    std::string s;
    s.reserve(std::size_t(numbers) * 12);
    char line[16];
    for (int i = 0; i < numbers; ++i) {
      const unsigned npa = 201 + unsigned(rng() % 700);
      const unsigned npa_ok = npa % 100 == 11 ? npa + 1 : npa;
      unsigned local = 2'000'000 + unsigned(rng() % 8'000'000);
      if (local / 100 == 55501) local += 100;  // 555-01xx is fictional, hence invalid
      const int n = i % 10 == 0 ? std::snprintf(line, sizeof line, "%u,%07u\n", npa_ok, local)
                                : std::snprintf(line, sizeof line, "%u%07u\n", npa_ok, local);
      s.append(line, std::size_t(n));
    }
    return s;
  }();
  return text;
}

const std::string& ftc_gzip() {
  static const std::string gz = [] {
    const std::string& plain = ftc_text();
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, uLong(plain.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = uInt(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }();
  return gz;
}

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  auto p = std::filesystem::temp_directory_path() /
           ("stopgate_bench_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary).write(content.data(), std::streamsize(content.size()));
  return p;
}

void drain(benchmark::State& state, dnc_file_reader& r) {
  std::vector<entry> batch;
  batch.reserve(65536);
  std::uint64_t sum = 0;
  for (;;) {
    auto more = r.next_batch(batch);
    if (!more) {
      state.SkipWithError(r.error_message().c_str());
      return;
    }
    for (const auto& e : batch) sum += e.number.value();
    if (!*more) break;
  }
  benchmark::DoNotOptimize(sum);
  if (r.stats().numbers != std::uint64_t(numbers)) state.SkipWithError("wrong count");
}

void run_memory(benchmark::State& state, const std::string& data) {
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy = data;  // from_memory takes ownership; the copy is not the reader's cost
    state.ResumeTiming();
    auto r = dnc_file_reader::from_memory(std::move(copy), {});
    drain(state, r);
  }
  state.SetItemsProcessed(state.iterations() * numbers);
  state.SetBytesProcessed(std::int64_t(state.iterations() * data.size()));
}

void run_file(benchmark::State& state, const std::string& name, const std::string& data) {
  const auto path = temp_file(name, data);
  for (auto _ : state) {
    auto r = dnc_file_reader::open(path, {});
    if (!r) {
      state.SkipWithError("open failed");
      break;
    }
    drain(state, *r);
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * numbers);
  state.SetBytesProcessed(std::int64_t(state.iterations() * data.size()));
}

void BM_ftc_plain_memory(benchmark::State& s) {
  run_memory(s, ftc_text());
}
void BM_ftc_gzip_memory(benchmark::State& s) {
  run_memory(s, ftc_gzip());
}
void BM_ftc_plain_file(benchmark::State& s) {
  run_file(s, "plain", ftc_text());
}
void BM_ftc_gzip_file(benchmark::State& s) {
  run_file(s, "gz", ftc_gzip());
}

BENCHMARK(BM_ftc_plain_memory)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ftc_gzip_memory)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ftc_plain_file)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ftc_gzip_file)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
