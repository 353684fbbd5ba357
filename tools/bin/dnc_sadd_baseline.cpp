// dnc_sadd_baseline: the naive way to put a DNC file into Redis, for the load benchmark's
// baseline: one `SADD key number` per number, pipelined (1,000 commands per pipeline).
//
//   dnc_sadd_baseline --redis unix:///path/redis.sock [--key baseline:dnc] FILE
#include "dnc/lists/file.hpp"
#include "redis/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace stopgate;

int main(int argc, char** argv) {
  std::string url, key, file;
  po::options_description desc("dnc_sadd_baseline: SADD every number of an ftc file, pipelined");
  desc.add_options()("help,h", "this text")("redis", po::value(&url)->required(), "redis URL")(
      "key", po::value(&key)->default_value("baseline:dnc"), "set key")(
      "file", po::value(&file)->required(), "ftc file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
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
  o.command_timeout = std::chrono::seconds(60);
  asio::io_context io;
  redis::client client(io.get_executor(), o);
  client.start();
  int rc = 0;
  std::uint64_t total = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto job = [&]() -> asio::awaitable<void> {
    if (auto ec = co_await client.async_wait_connected(std::chrono::seconds(5))) {
      std::cerr << "cannot connect: " << ec.message() << "\n";
      rc = 1;
      co_return;
    }
    dnc::lists::reader_options ro;
    auto reader = dnc::lists::dnc_file_reader::open(file, ro);
    if (!reader) {
      std::cerr << file << ": " << reader.error().message() << "\n";
      rc = 1;
      co_return;
    }
    std::vector<dnc::lists::entry> batch;
    redis::pipeline p;
    std::string member;
    for (;;) {
      auto more = reader->next_batch(batch, 1000);
      if (!more) {
        rc = 1;
        co_return;
      }
      p.clear();
      for (auto& e : batch) {
        member = std::to_string(e.number.value());
        p.add({"SADD", key, member});
      }
      if (p.size() > 0) {
        auto r = co_await client.async_exec(p);
        if (!r) {
          std::cerr << "redis: " << r.error().message() << "\n";
          rc = 1;
          co_return;
        }
      }
      total += batch.size();
      if (!*more) break;
    }
  };
  // The client reconnects forever unless stopped: stop it when the job is done. (A named
  // lambda: a coroutine must not outlive the closure whose captures it uses.)
  auto job_then_stop = [&]() -> asio::awaitable<void> {
    co_await job();
    client.stop();
  };
  auto fut = asio::co_spawn(io, job_then_stop(), asio::use_future);
  io.run();
  fut.get();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sadd baseline: %llu numbers in %.2f s, %.0f numbers/s\n",
              static_cast<unsigned long long>(total), secs, double(total) / secs);
  return rc;
}
