// How many replicas must acknowledge an opt-out, opt-in or consent write before the gateway
// acknowledges it (redis.min_replica_acks, docs/REDIS.md "No acknowledged opt-out lost").
#pragma once

#include "config/settings.hpp"
#include "redis/client.hpp"

#include <boost/system/result.hpp>

#include <chrono>

namespace stopgate::gateway {

/// redis.min_replica_acks when set. "auto" (unset): asks the primary (INFO replication) and
/// answers 1 when it has a connected replica, else 0. Blocking: its own connection and
/// io_context; fails when Redis does not answer within `timeout`.
boost::system::result<unsigned> resolve_replica_acks(const config::redis_settings& s,
                                                     const redis::client_options& opts,
                                                     std::chrono::milliseconds timeout);

/// "connected_slaves:N" from an INFO replication text; 0 when absent. Pure.
unsigned connected_replicas(std::string_view info);

}  // namespace stopgate::gateway
