// A real Sentinel setup on loopback for one test: a primary, its replicas, and Sentinels
// (`redis-server --sentinel`, what Debian's redis-sentinel runs) monitoring it as
// "mymaster" with quorum 2. Ready once every Sentinel names the primary and knows every
// replica. Torn down with the object.
#pragma once

#include "tests/support/redis_node.hpp"
#include "tests/support/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stopgate::test {

class redis_sentinel {
 public:
  static constexpr const char* master_name = "mymaster";

  explicit redis_sentinel(int replicas = 1, int sentinels = 3);
  ~redis_sentinel();
  redis_sentinel(const redis_sentinel&) = delete;
  redis_sentinel& operator=(const redis_sentinel&) = delete;

  /// "sentinel://127.0.0.1:S1,127.0.0.1:S2,.../mymaster".
  std::string url() const;
  /// The data nodes' ports (the first was the primary at start) and the Sentinels' ports.
  std::vector<int> data_ports() const;
  std::vector<int> sentinel_ports() const;
  std::string cli(int port, const std::string& args) const { return redis_cli(port, args); }

  /// The port every Sentinel names as the primary now; 0 while they disagree.
  int primary() const;
  /// SENTINEL FAILOVER; returns the new primary's port once every Sentinel names it and it
  /// says ROLE master (20 s, else throws). The old primary is demoted by the Sentinels some
  /// seconds later (they wait before converting it to a replica).
  int failover();

 private:
  temp_dir dir_;
  std::vector<std::unique_ptr<redis_node>> data_, sentinels_;
};

}  // namespace stopgate::test
