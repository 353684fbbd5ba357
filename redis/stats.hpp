// What a client counts about redirects, retries and failovers (for metrics, logs and tests).
#pragma once

#include <cstdint>

namespace stopgate::redis {

/// Why a cluster client sends a command again (client_options::on_retry).
enum class retry_reason {
  moved,        // -MOVED: the slot lives on another node (the map is refreshed)
  ask,          // -ASK: the key is being migrated; ASKING + the command on the target
  tryagain,     // -TRYAGAIN: a multi-key command during a migration
  clusterdown,  // -CLUSTERDOWN: the cluster (or the slot) is not served right now
  connection,   // the node's connection was lost or not up (the map is refreshed)
};

/// Counters of one client since it was built. All zero for a single-node client.
struct client_stats {
  std::uint64_t moved = 0;               // MOVED redirects followed
  std::uint64_t ask = 0;                 // ASK redirects followed
  std::uint64_t tryagain = 0;            // resends after TRYAGAIN
  std::uint64_t clusterdown = 0;         // resends after CLUSTERDOWN
  std::uint64_t connection_retries = 0;  // resends after a lost or absent node connection
  std::uint64_t map_refreshes = 0;       // cluster slot maps loaded
  std::uint64_t primary_changes = 0;     // sentinel: a new primary address learnt
  std::uint64_t switch_messages = 0;     // sentinel: +switch-master messages for our master
  std::uint64_t replica_refusals = 0;    // connections dropped because ROLE said replica
  std::uint64_t readonly_replies = 0;    // sentinel: -READONLY replies (re-discovery follows)
};

}  // namespace stopgate::redis
