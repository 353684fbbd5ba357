// Reading what a Redis Cluster answers: MOVED / ASK redirects, TRYAGAIN and CLUSTERDOWN, and
// the slot map of CLUSTER SHARDS (Redis 7) or CLUSTER SLOTS (older). Pure: no I/O.
#pragma once

#include "redis/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::redis {

/// "-MOVED 3999 127.0.0.1:6381" (the slot lives there now) or "-ASK 3999 127.0.0.1:6381"
/// (this one key is being migrated there: ASKING, then the command, on that node only).
struct redirect {
  enum class kind { moved, ask };
  kind type = kind::moved;
  std::uint16_t slot = 0;
  std::string host;  // may be empty: the node does not know its address; use the one asked
  int port = 0;
};

/// The redirect an error reply carries, or nullopt. Thread-safe (pure).
std::optional<redirect> parse_redirect(const reply& r);
/// "-TRYAGAIN ...": a multi-key command during a slot migration; resend after a while.
bool is_tryagain(const reply& r) noexcept;
/// "-CLUSTERDOWN ...": the cluster (or this slot) is not served right now.
bool is_clusterdown(const reply& r) noexcept;

/// One range of slots and the address of the primary serving it.
struct slot_range {
  std::uint16_t first = 0, last = 0;  // inclusive
  std::string host;
  int port = 0;
  friend bool operator==(const slot_range&, const slot_range&) = default;
};

/// The primaries' slot ranges from a CLUSTER SHARDS reply (RESP2: each shard and node a flat
/// list of name, value). A node's address is its "endpoint", else its "ip", else
/// `asked_host` (the node that answered) when it reports none ("" or "?"). Shards without a
/// primary or without slots add nothing. nullopt when the reply has another shape.
std::optional<std::vector<slot_range>> parse_cluster_shards(const reply& r,
                                                            std::string_view asked_host);
/// The same from CLUSTER SLOTS: [first, last, [host, port, id, ...], replicas...].
std::optional<std::vector<slot_range>> parse_cluster_slots(const reply& r,
                                                           std::string_view asked_host);

}  // namespace stopgate::redis
