// A real Redis Cluster on loopback for one test: N primaries with R replicas each, started
// as redis-server processes on free ports (their bus ports too, via --cluster-port), joined
// as `redis-cli --cluster create` does (config epochs, slots, MEET, REPLICATE), and ready
// once every node reports cluster_state:ok, all
// agree on the slot owners and every replica's link is up. Torn down with the object.
#pragma once

#include "tests/support/redis_node.hpp"
#include "tests/support/temp_dir.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stopgate::test {

class redis_cluster {
 public:
  /// `node_timeout_ms`: cluster-node-timeout; a killed primary is replaced after about
  /// twice that.
  explicit redis_cluster(int primaries = 3, int replicas_each = 1, int node_timeout_ms = 3000);
  ~redis_cluster();
  redis_cluster(const redis_cluster&) = delete;
  redis_cluster& operator=(const redis_cluster&) = delete;

  /// "cluster://127.0.0.1:P1,127.0.0.1:P2,..." with every node as a seed.
  std::string url() const;
  /// Every node's port, primaries and replicas, as started.
  std::vector<int> ports() const;
  /// `redis-cli -p PORT ARGS` against one node.
  std::string cli(int port, const std::string& args) const { return redis_cli(port, args); }

  /// The current primaries (those serving slots), as a running node sees them.
  std::vector<int> primaries() const;
  /// The port of the primary serving `slot` now.
  int primary_of_slot(int slot) const;
  /// The same for every slot at once (index: slot).
  std::vector<int> slot_owners() const;
  /// A replica of the primary on `primary_port`.
  int replica_of(int primary_port) const;
  std::string node_id(int port) const;

  /// Slot migration in the steps Redis defines: IMPORTING on the target and MIGRATING on the
  /// source, MIGRATE of the keys, then SETSLOT NODE everywhere.
  void begin_migration(int slot, int to_port);
  void migrate_key(int slot, int to_port, const std::string& key);
  void finish_migration(int slot, int to_port);
  /// All three: every key of `slot` moves to `to_port`.
  void move_slot(int slot, int to_port);

  /// CLUSTER FAILOVER on `replica_port`; returns when it is the primary and all agree.
  void failover(int replica_port);
  /// SIGKILL of one node (it stays dead).
  void kill(int port);
  /// Waits (20 s, else throws) until every running node is cluster_state:ok, all report the
  /// same primary for every slot, and every running replica's link is up.
  void wait_agreed() const;

 private:
  struct view {
    std::map<int, std::string> ids;  // port -> node id
    std::map<int, int> master_of;    // replica port -> primary port
    std::vector<int> slot_owner;     // slot -> primary port (0: none)
  };
  view read_view(int port) const;
  int any_running() const;

  temp_dir dir_;
  std::vector<std::unique_ptr<redis_node>> nodes_;
  std::vector<int> bus_ports_;
};

}  // namespace stopgate::test
