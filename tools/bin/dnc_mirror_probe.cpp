// dnc_mirror_probe: a stand-in for a running gateway's in-process list copy, for the load
// benchmark. It keeps a list_mirror fresh and, for every generation announcement of the
// watched list, prints how long after the announcement the new generation was installed
// (held in memory, answering lookups). Exits after --count installs of new generations.
//
//   dnc_mirror_probe --redis unix:///path/redis.sock --list federal [--count 1]
#include "dnc/lists/keys.hpp"
#include "dnc/lists/mirror.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace stopgate;

int main(int argc, char** argv) {
  std::string url, list;
  int count = 1;
  po::options_description desc("dnc_mirror_probe: time from a list announcement to the in-process copy");
  desc.add_options()("help,h", "this text")("redis", po::value(&url)->required(), "redis URL")(
      "list", po::value(&list)->required(), "list to watch")(
      "count", po::value(&count)->default_value(1), "new generations to wait for");
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
  auto ep = redis::parse_url(url);
  if (!ep) {
    std::cerr << "bad --redis: " << ep.error().message() << "\n";
    return 2;
  }
  redis::client_options o;
  o.ep = *ep;
  o.command_timeout = std::chrono::seconds(30);
  asio::io_context io;
  // Our own subscriber notes when the announcement arrives; the mirror has its own.
  redis::subscriber sub(io.get_executor(), o);
  std::chrono::steady_clock::time_point announced{};
  sub.subscribe(std::string(dnc::lists::list_keys::channel));
  sub.on_message([&](std::string_view, std::string_view msg) {
    if (msg.substr(0, msg.find(' ')) == list) announced = std::chrono::steady_clock::now();
  });
  sub.start();
  dnc::lists::list_mirror::options mo;
  mo.redis = o;
  dnc::lists::list_mirror mirror(io.get_executor(), mo);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::uint64_t first_gen = 0;
  bool have_first = false;
  int seen = 0;
  mirror.on_installed([&](const dnc::model::lists_snapshot& s) {
    const auto* g = s.find(list);
    if (!g) return;
    if (!have_first) {
      have_first = true;
      first_gen = g->meta().generation;
      std::printf("probe: holding %s generation %llu (%llu numbers); waiting for a new one\n",
                  list.c_str(), static_cast<unsigned long long>(first_gen),
                  static_cast<unsigned long long>(g->meta().count));
      std::fflush(stdout);
      return;
    }
    if (g->meta().generation == first_gen) return;
    first_gen = g->meta().generation;
    const auto now = std::chrono::steady_clock::now();
    const double ms = announced.time_since_epoch().count()
                          ? std::chrono::duration<double, std::milli>(now - announced).count()
                          : -1;
    std::printf("probe: %s generation %llu (%llu numbers, %.1f MB) installed %.1f ms after its announcement\n",
                list.c_str(), static_cast<unsigned long long>(g->meta().generation),
                static_cast<unsigned long long>(g->meta().count), double(g->memory_bytes()) / 1e6, ms);
    std::fflush(stdout);
    if (++seen >= count) {
      mirror.stop();
      sub.stop();
      signals.cancel();
    }
  });
  mirror.start();
  signals.async_wait([&](auto, int) {
    mirror.stop();
    sub.stop();
  });
  io.run();
  return seen >= count ? 0 : 1;
}
