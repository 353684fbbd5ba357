#include "tests/support/redis_sentinel.hpp"

#include "tests/support/redis_server.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stopgate::test {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// SENTINEL REPLICAS prints each replica as name / value lines: how many have flags "slave"
// exactly (known, reachable, not down).
int healthy_replicas(const std::string& text) {
  const auto l = lines_of(text);
  int n = 0;
  for (std::size_t i = 0; i + 1 < l.size(); ++i)
    if (l[i] == "flags" && l[i + 1] == "slave") ++n;
  return n;
}

}  // namespace

redis_sentinel::redis_sentinel(int replicas, int sentinels) {
  for (int i = 0; i <= replicas; ++i) {
    const int port = free_port();
    const auto dir = dir_.path() / ("data" + std::to_string(i));
    std::filesystem::create_directories(dir);
    const auto log = dir / "redis.log";
    std::vector<std::string> args{"--port", std::to_string(port), "--bind", "127.0.0.1", "--dir",
                                  dir.string(), "--save", "", "--appendonly", "no", "--daemonize",
                                  "no", "--logfile", log.string(),
                                  // A replica syncs at once (the default waits 5 s for more
                                  // replicas to join).
                                  "--repl-diskless-sync-delay", "0"};
    if (i > 0) {
      args.push_back("--replicaof");
      args.push_back("127.0.0.1");
      args.push_back(std::to_string(data_[0]->port()));
    }
    data_.push_back(std::make_unique<redis_node>(port, std::move(args), log));
  }
  for (int i = 1; i <= replicas; ++i) {
    if (!wait_until(
            [&] {
              return info_field(data_[std::size_t(i)]->cli("INFO replication"),
                                "master_link_status") == "up";
            },
            std::chrono::seconds(20)))
      throw std::runtime_error("redis_sentinel: a replica did not sync");
  }
  const int primary_port = data_[0]->port();
  for (int i = 0; i < sentinels; ++i) {
    const int port = free_port();
    const auto dir = dir_.path() / ("sentinel" + std::to_string(i));
    std::filesystem::create_directories(dir);
    const auto conf = dir / "sentinel.conf";
    const auto log = dir / "sentinel.log";
    {
      // Sentinel rewrites its config file: it must be its own and writable.
      std::ofstream out(conf);
      out << "port " << port << "\nbind 127.0.0.1\ndaemonize no\ndir " << dir.string()
          << "\nlogfile " << log.string() << "\nsentinel monitor " << master_name << " 127.0.0.1 "
          << primary_port
          << " 2\n"
          // Long enough that no failover starts by itself during a test; SENTINEL FAILOVER
          // does not wait for it.
          << "sentinel down-after-milliseconds " << master_name << " 10000\n"
          << "sentinel failover-timeout " << master_name << " 10000\n";
    }
    sentinels_.push_back(std::make_unique<redis_node>(
        port, std::vector<std::string>{conf.string(), "--sentinel", "--port", std::to_string(port)},
        log));
  }
  const bool ready = wait_until(
      [&] {
        for (const auto& s : sentinels_)
          if (healthy_replicas(s->cli(std::string("SENTINEL REPLICAS ") + master_name)) != replicas)
            return false;
        return primary() == primary_port;
      },
      std::chrono::seconds(30));
  if (!ready) throw std::runtime_error("redis_sentinel: the Sentinels did not see every replica");
}

redis_sentinel::~redis_sentinel() {
  // Sentinels first: they must not react to the data nodes going away.
  sentinels_.clear();
  data_.clear();
}

std::string redis_sentinel::url() const {
  std::string u = "sentinel://";
  for (std::size_t i = 0; i < sentinels_.size(); ++i)
    u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinels_[i]->port());
  return u + "/" + master_name;
}

std::vector<int> redis_sentinel::data_ports() const {
  std::vector<int> out;
  for (const auto& n : data_) out.push_back(n->port());
  return out;
}

std::vector<int> redis_sentinel::sentinel_ports() const {
  std::vector<int> out;
  for (const auto& n : sentinels_) out.push_back(n->port());
  return out;
}

int redis_sentinel::primary() const {
  int agreed = 0;
  for (const auto& s : sentinels_) {
    const auto l = lines_of(s->cli(std::string("SENTINEL GET-MASTER-ADDR-BY-NAME ") + master_name));
    if (l.size() != 2) return 0;
    const int port = std::stoi(l[1]);
    if (agreed != 0 && port != agreed) return 0;
    agreed = port;
  }
  return agreed;
}

int redis_sentinel::failover() {
  const int old = primary();
  if (old == 0) throw std::runtime_error("redis_sentinel: the Sentinels disagree before failover");
  const std::string out = sentinels_[0]->cli(std::string("SENTINEL FAILOVER ") + master_name);
  if (out != "OK") throw std::runtime_error("SENTINEL FAILOVER: " + out);
  int now = 0;
  const bool done = wait_until(
      [&] {
        now = primary();
        return now != 0 && now != old && redis_cli(now, "ROLE").rfind("master", 0) == 0;
      },
      std::chrono::seconds(20));
  if (!done) throw std::runtime_error("redis_sentinel: the failover did not complete in 20 s");
  return now;
}

}  // namespace stopgate::test
