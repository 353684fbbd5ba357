#include "tests/support/redis_cluster.hpp"

#include "tests/support/redis_server.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace stopgate::test {

namespace {
constexpr int slot_count = 16384;
}

redis_cluster::redis_cluster(int primaries, int replicas_each, int node_timeout_ms) {
  const int n = primaries * (1 + replicas_each);
  for (int i = 0; i < n; ++i) {
    const int port = free_port();
    const int bus = free_port();
    const auto dir = dir_.path() / ("node" + std::to_string(i));
    std::filesystem::create_directories(dir);
    const auto log = dir / "redis.log";
    nodes_.push_back(std::make_unique<redis_node>(
        port,
        std::vector<std::string>{
            "--port", std::to_string(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
            "--cluster-port", std::to_string(bus), "--cluster-config-file",
            (dir / "nodes.conf").string(), "--cluster-node-timeout",
            std::to_string(node_timeout_ms),
            // Keep the shape the test set up: no replica moves by itself.
            "--cluster-allow-replica-migration", "no", "--dir", dir.string(),
            // A replica syncs at once (the default waits 5 s for more replicas to join).
            "--repl-diskless-sync-delay", "0", "--save", "", "--appendonly", "no", "--daemonize",
            "no", "--logfile", log.string()},
        log, /*wait=*/false));
    bus_ports_.push_back(bus);
  }
  // Joined by hand rather than with `redis-cli --cluster create`, which sleeps a second per
  // round while it waits: the same steps, polled every 20 ms.
  for (auto& node : nodes_) node->wait_ready();
  for (int i = 0; i < n; ++i)
    nodes_[std::size_t(i)]->cli("CLUSTER SET-CONFIG-EPOCH " + std::to_string(i + 1));
  for (int i = 0; i < primaries; ++i) {
    const int first = slot_count * i / primaries, last = slot_count * (i + 1) / primaries - 1;
    const std::string out = nodes_[std::size_t(i)]->cli(
        "CLUSTER ADDSLOTSRANGE " + std::to_string(first) + " " + std::to_string(last));
    if (out != "OK") throw std::runtime_error("CLUSTER ADDSLOTSRANGE: " + out);
  }
  // Every pair meets directly: no waiting for gossip to introduce them.
  for (int i = 1; i < n; ++i)
    for (int j = 0; j < i; ++j)
      nodes_[std::size_t(i)]->cli("CLUSTER MEET 127.0.0.1 " +
                                  std::to_string(nodes_[std::size_t(j)]->port()) + " " +
                                  std::to_string(bus_ports_[std::size_t(j)]));
  const bool met = wait_until(
      [&] {
        for (const auto& node : nodes_) {
          const std::string text = node->cli("CLUSTER NODES");
          if (std::count(text.begin(), text.end(), '\n') + 1 != n ||
              text.find("handshake") != std::string::npos ||
              text.find("noaddr") != std::string::npos)
            return false;
        }
        return true;
      },
      std::chrono::seconds(20));
  if (!met) throw std::runtime_error("redis_cluster: the nodes did not meet within 20 s");
  for (int i = primaries; i < n; ++i) {
    const int primary = nodes_[std::size_t((i - primaries) % primaries)]->port();
    const std::string id = node_id(primary);
    // The replica must know the primary's id first; it does once the meeting spread.
    const bool ok =
        wait_until([&] { return nodes_[std::size_t(i)]->cli("CLUSTER REPLICATE " + id) == "OK"; },
                   std::chrono::seconds(10));
    if (!ok) throw std::runtime_error("redis_cluster: CLUSTER REPLICATE failed");
  }
  // Every node must have heard of every replica (gossip) before a test asks who replicates whom.
  const bool known = wait_until(
      [&] {
        for (const auto& node : nodes_)
          if (read_view(node->port()).master_of.size() != std::size_t(n - primaries)) return false;
        return true;
      },
      std::chrono::seconds(20));
  if (!known) throw std::runtime_error("redis_cluster: the replicas were not known within 20 s");
  wait_agreed();
}

redis_cluster::~redis_cluster() = default;

std::string redis_cluster::url() const {
  std::string u = "cluster://";
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(nodes_[i]->port());
  return u;
}

std::vector<int> redis_cluster::ports() const {
  std::vector<int> out;
  for (const auto& n : nodes_) out.push_back(n->port());
  return out;
}

int redis_cluster::any_running() const {
  for (const auto& n : nodes_)
    if (n->running()) return n->port();
  throw std::runtime_error("redis_cluster: no node runs");
}

// CLUSTER NODES: "<id> <ip:port@bus> <flags> <master-id|-> <ping> <pong> <epoch> <link>
// <slot or first-last>...", one node a line; "[slot->-id]" entries are migrations.
redis_cluster::view redis_cluster::read_view(int port) const {
  view v;
  v.slot_owner.assign(slot_count, 0);
  std::istringstream lines(redis_cli(port, "CLUSTER NODES"));
  std::string line;
  std::map<std::string, int> port_of;
  std::vector<std::pair<int, std::string>> replicas;  // port, master id
  std::vector<std::pair<int, std::string>> ranges;    // port, range text
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string id, addr, flags, master, ping, pong, epoch, link, slot;
    if (!(f >> id >> addr >> flags >> master >> ping >> pong >> epoch >> link)) continue;
    const auto colon = addr.find(':'), at = addr.find('@');
    if (colon == std::string::npos) continue;
    const int p = std::stoi(addr.substr(colon + 1, at - colon - 1));
    v.ids[p] = id;
    port_of[id] = p;
    if (flags.find("slave") != std::string::npos) replicas.emplace_back(p, master);
    while (f >> slot)
      if (slot.front() != '[') ranges.emplace_back(p, slot);
  }
  for (auto& [p, master] : replicas)
    if (port_of.count(master)) v.master_of[p] = port_of[master];
  for (auto& [p, r] : ranges) {
    const auto dash = r.find('-');
    const int first = std::stoi(r.substr(0, dash));
    const int last = dash == std::string::npos ? first : std::stoi(r.substr(dash + 1));
    for (int s = first; s <= last; ++s) v.slot_owner[std::size_t(s)] = p;
  }
  return v;
}

std::vector<int> redis_cluster::primaries() const {
  const view v = read_view(any_running());
  std::vector<int> out;
  for (int p : v.slot_owner)
    if (p != 0 && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  std::sort(out.begin(), out.end());
  return out;
}

int redis_cluster::primary_of_slot(int slot) const {
  return read_view(any_running()).slot_owner.at(std::size_t(slot));
}

std::vector<int> redis_cluster::slot_owners() const {
  return read_view(any_running()).slot_owner;
}

int redis_cluster::replica_of(int primary_port) const {
  for (auto& [replica, master] : read_view(any_running()).master_of)
    if (master == primary_port) return replica;
  throw std::runtime_error("redis_cluster: no replica of " + std::to_string(primary_port));
}

std::string redis_cluster::node_id(int port) const {
  return read_view(any_running()).ids.at(port);
}

void redis_cluster::begin_migration(int slot, int to_port) {
  const int from = primary_of_slot(slot);
  const std::string s = std::to_string(slot);
  cli(to_port, "CLUSTER SETSLOT " + s + " IMPORTING " + node_id(from));
  cli(from, "CLUSTER SETSLOT " + s + " MIGRATING " + node_id(to_port));
}

void redis_cluster::migrate_key(int slot, int to_port, const std::string& key) {
  const std::string out =
      cli(primary_of_slot(slot),
          "MIGRATE 127.0.0.1 " + std::to_string(to_port) + " '" + key + "' 0 5000");
  if (out != "OK") throw std::runtime_error("MIGRATE " + key + ": " + out);
}

void redis_cluster::finish_migration(int slot, int to_port) {
  const int from = primary_of_slot(slot);
  const std::string s = std::to_string(slot);
  while (true) {
    std::istringstream keys(cli(from, "CLUSTER GETKEYSINSLOT " + s + " 100"));
    std::string key;
    bool any = false;
    while (std::getline(keys, key)) {
      if (key.empty()) continue;
      any = true;
      migrate_key(slot, to_port, key);
    }
    if (!any) break;
  }
  // The target first, then the source, then everyone else (the order Redis documents).
  const std::string to_id = node_id(to_port);
  cli(to_port, "CLUSTER SETSLOT " + s + " NODE " + to_id);
  cli(from, "CLUSTER SETSLOT " + s + " NODE " + to_id);
  for (int p : primaries())
    if (p != to_port && p != from) cli(p, "CLUSTER SETSLOT " + s + " NODE " + to_id);
  wait_agreed();
}

void redis_cluster::move_slot(int slot, int to_port) {
  begin_migration(slot, to_port);
  finish_migration(slot, to_port);
}

void redis_cluster::failover(int replica_port) {
  // A coordinated failover gives up after 5 s (Redis's manual-failover timeout) when the
  // primary and the replica cannot agree in time, as on a loaded 2-core machine: ask again,
  // and after three tries take over without the primary's agreement (FORCE). The client's
  // side of the test is the same either way.
  auto promoted = [&] { return cli(replica_port, "ROLE").rfind("master", 0) == 0; };
  for (const char* how : {"CLUSTER FAILOVER", "CLUSTER FAILOVER", "CLUSTER FAILOVER", "CLUSTER FAILOVER FORCE"}) {
    const std::string out = cli(replica_port, how);
    if (out != "OK") throw std::runtime_error(std::string(how) + ": " + out);
    if (wait_until(promoted, std::chrono::seconds(8))) {
      wait_agreed();
      return;
    }
  }
  throw std::runtime_error("CLUSTER FAILOVER: the replica was not promoted (4 tries, the last FORCE)");
}

void redis_cluster::kill(int port) {
  for (auto& n : nodes_)
    if (n->port() == port) n->kill();
}

void redis_cluster::wait_agreed() const {
  const bool agreed = wait_until(
      [&] {
        std::vector<int> owners;
        std::map<int, int> replicas;
        bool first = true;
        for (const auto& n : nodes_) {
          if (!n->running()) continue;
          if (info_field(n->cli("CLUSTER INFO"), "cluster_state") != "ok") return false;
          const view v = read_view(n->port());
          if (std::count(v.slot_owner.begin(), v.slot_owner.end(), 0) != 0) return false;
          // Every node tells the same story: who owns each slot and who replicates whom.
          if (first) {
            owners = v.slot_owner;
            replicas = v.master_of;
            first = false;
          } else if (owners != v.slot_owner || replicas != v.master_of) {
            return false;
          }
          // A dead owner is not agreement: its replica has not taken over yet.
          for (int p : v.slot_owner) {
            const auto it = std::find_if(nodes_.begin(), nodes_.end(),
                                         [&](const auto& m) { return m->port() == p; });
            if (it == nodes_.end() || !(*it)->running()) return false;
          }
          if (v.master_of.count(n->port()) &&
              info_field(n->cli("INFO replication"), "master_link_status") != "up")
            return false;
        }
        return true;
      },
      std::chrono::seconds(20));
  if (!agreed) throw std::runtime_error("redis_cluster: the nodes did not agree within 20 s");
}

}  // namespace stopgate::test
