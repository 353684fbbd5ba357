// gen_registry: writes a synthetic national-registry file in `ftc` format for benchmarks:
// N area codes x M numbers each, unique, valid NANP numbers, sorted per area code like the
// FTC's files. Deterministic for a given seed.
//
//   gen_registry --out registry.txt [--npas 40] [--per-npa 625000] [--seed 42] [--split]
//
// --split writes "NPA,NNNNNNN" lines instead of 10 digits.
#include "dnc/model/npa_bitmap.hpp"
#include "dnc/model/phone_number.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string out;
  unsigned npas = 40, seed = 42;
  std::uint64_t per_npa = 625'000;
  bool split = false;
  po::options_description desc("gen_registry: write a synthetic FTC-format registry file");
  desc.add_options()("help,h", "this text")("out,o", po::value(&out)->required(), "output file")(
      "npas", po::value(&npas)->default_value(40), "number of area codes (1..700)")(
      "per-npa", po::value(&per_npa)->default_value(625'000), "numbers per area code (1..7,000,000)")(
      "seed", po::value(&seed)->default_value(42), "random seed")(
      "split", po::bool_switch(&split), "write NPA,NNNNNNN instead of 10 digits");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "gen_registry: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (npas < 1 || npas > 700 || per_npa < 1 || per_npa > 7'000'000) {
    std::cerr << "gen_registry: --npas must be 1..700 and --per-npa 1..7,000,000\n";
    return 2;
  }
  std::mt19937_64 rng(seed);
  // Valid geographic-looking area codes: 2xx-9xx, not N11, not 555.
  std::set<unsigned> chosen;
  while (chosen.size() < npas) {
    unsigned npa = 200 + unsigned(rng() % 800);
    if (npa % 100 == 11 || npa == 555) continue;
    chosen.insert(npa);
  }
  FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) {
    std::perror(out.c_str());
    return 1;
  }
  std::vector<char> buf;
  buf.reserve(1 << 22);
  std::uint64_t total = 0;
  for (unsigned npa : chosen) {
    stopgate::dnc::model::npa_bitmap bits;
    std::uint64_t have = 0;
    while (have < per_npa) {
      // Exchanges 200-999: 8,000,000 locals per area code.
      const std::uint32_t local = 2'000'000 + std::uint32_t(rng() % 8'000'000);
      if (stopgate::dnc::model::check_nanp(std::uint64_t(npa) * 10'000'000 + local)) continue;
      if (bits.set(local)) ++have;
    }
    bits.for_each([&](std::uint32_t local) {
      char line[16];
      int n = split ? std::snprintf(line, sizeof line, "%03u,%07u\n", npa, local)
                    : std::snprintf(line, sizeof line, "%03u%07u\n", npa, local);
      buf.insert(buf.end(), line, line + n);
      if (buf.size() > (1 << 22) - 32) {
        std::fwrite(buf.data(), 1, buf.size(), f);
        buf.clear();
      }
    });
    total += have;
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  if (std::fclose(f) != 0) {
    std::perror(out.c_str());
    return 1;
  }
  std::fprintf(stderr, "gen_registry: wrote %llu numbers over %u area codes to %s\n",
               static_cast<unsigned long long>(total), npas, out.c_str());
  return 0;
}
