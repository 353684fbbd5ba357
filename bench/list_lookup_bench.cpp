// In-process membership checks against one list generation at national-registry density
// (40 area codes x 625,000 numbers), in batches of 1,000 as the check path does them.
//
//   build/bench/list_lookup_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include "dnc/model/list_generation.hpp"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace {

using stopgate::dnc::model::list_builder;
using stopgate::dnc::model::list_generation;
using stopgate::dnc::model::phone_number;

struct fixture {
  std::unique_ptr<list_generation> gen;
  std::vector<phone_number> queries;  // half listed, half random numbers in the same area codes
};

const fixture& data() {
  static const fixture f = [] {
    fixture f;
    std::mt19937_64 rng(7);
    std::vector<unsigned> npas;
    while (npas.size() < 40) {
      unsigned npa = 200 + unsigned(rng() % 800);
      if (npa % 100 != 11 && std::find(npas.begin(), npas.end(), npa) == npas.end()) npas.push_back(npa);
    }
    list_builder b;
    std::vector<phone_number> listed;
    for (unsigned npa : npas)
      for (int i = 0; i < 625'000; ++i) {
        auto n = phone_number::nanp(npa, 2'000'000 + std::uint32_t(rng() % 8'000'000));
        b.add(n);
        if (i % 16 == 0) listed.push_back(n);
      }
    auto r = b.finish();
    stopgate::dnc::model::list_meta m;
    m.count = r.count;
    f.gen = std::make_unique<list_generation>(m, std::move(r.npa), std::move(r.sparse));
    for (std::size_t i = 0; i < (1u << 20); ++i)
      f.queries.push_back(i % 2 ? listed[rng() % listed.size()]
                                : phone_number::nanp(npas[rng() % npas.size()],
                                                     2'000'000 + std::uint32_t(rng() % 8'000'000)));
    return f;
  }();
  return f;
}

void BM_contains_batch_1000(benchmark::State& state) {
  const auto& f = data();
  bool out[1000];
  std::size_t off = 0, hits = 0;
  for (auto _ : state) {
    f.gen->contains_many({f.queries.data() + off, 1000}, out);
    for (bool b : out) hits += b;
    off = (off + 1000) % (f.queries.size() - 1000);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * 1000);
  state.counters["hit_rate"] = double(hits) / double(state.iterations() * 1000);
}
BENCHMARK(BM_contains_batch_1000);

}  // namespace

BENCHMARK_MAIN();
