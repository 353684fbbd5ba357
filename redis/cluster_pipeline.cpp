// The pipeline half of the cluster router (cluster.hpp): units planned, batched per node,
// sent in parallel, replies put back in request order, redirected units sent again alone.
#include "redis/cluster.hpp"

#include "redis/exec.hpp"
#include "redis/slot.hpp"

#include <algorithm>

namespace stopgate::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;

asio::awaitable<result<std::vector<reply>>> cluster::async_exec(const pipeline& p) {
  auto self = shared_from_this();
  const std::size_t n = p.size();
  // The commands are copied before the first suspension: `p` may be reused meanwhile, and
  // redirected commands are sent again later.
  const std::string buf = p.buffer();
  std::vector<std::string_view> cmds(n);
  for (std::size_t i = 0, at = 0; i < n; ++i) {
    cmds[i] = std::string_view(buf).substr(at, p.command(i).size());
    at += cmds[i].size();
  }

  // Units: commands sent together to one node (plan_units, routing.hpp).
  std::vector<command_unit> units;
  {
    std::vector<std::string_view> args;
    std::vector<route> routes(n);
    std::vector<int> slots(n, any_slot);
    for (std::size_t i = 0; i < n; ++i) {
      if (!split_command(cmds[i], args)) co_return make_error_code(errc::bad_command);
      routes[i] = route_of(args, p.key(i));
      if (routes[i].type == route::kind::invalid) co_return make_error_code(errc::bad_command);
      if (routes[i].type == route::kind::keyed) slots[i] = key_slot(args[routes[i].key]);
    }
    units = plan_units(routes, slots);
  }

  if (!map_loaded_) co_await refresh_now();
  if (!running_) co_return make_error_code(errc::stopped);

  // One batch per node, each holding its units in request order (plus every broadcast).
  struct batch {
    std::shared_ptr<node> target;
    std::vector<std::size_t> units;
    std::shared_ptr<pending_op> op;
  };
  std::vector<batch> batches;
  std::vector<std::size_t> resend;  // units to send again one by one, in order
  std::vector<std::size_t> broadcasts;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (units[u].slot == every_node) {
      broadcasts.push_back(u);
      continue;
    }
    auto target = node_for(units[u].slot);
    if (!target) {
      resend.push_back(u);
      continue;
    }
    auto it = std::find_if(batches.begin(), batches.end(),
                           [&](const batch& b) { return b.target == target; });
    if (it == batches.end()) {
      batches.push_back({target, {}, nullptr});
      it = batches.end() - 1;
    }
    it->units.push_back(u);
  }
  if (!broadcasts.empty()) {
    if (batches.empty())
      for (auto& o : owners_) batches.push_back({o, {}, nullptr});
    for (auto& b : batches) {
      b.units.insert(b.units.end(), broadcasts.begin(), broadcasts.end());
      std::sort(b.units.begin(), b.units.end());
    }
  }
  for (auto& b : batches) {
    if (b.target->conn->ready()) continue;
    if (co_await b.target->conn->async_wait_attempt(opts_.command_timeout)) b.target = nullptr;
  }
  // Every batch is queued before the first reply is awaited: the nodes work in parallel.
  for (auto& b : batches) {
    if (!b.target) continue;
    std::size_t count = 0, bytes = 0;
    for (std::size_t u : b.units) {
      count += units[u].count;
      for (std::size_t c = 0; c < units[u].count; ++c) bytes += cmds[units[u].first + c].size();
    }
    std::size_t u_at = 0, c_at = 0;
    auto op = submit(
        *b.target->conn, count, bytes,
        [&](std::size_t) {
          const std::string_view cmd = cmds[units[b.units[u_at]].first + c_at];
          if (++c_at == units[b.units[u_at]].count) {
            ++u_at;
            c_at = 0;
          }
          return cmd;
        },
        true);
    if (op)
      b.op = std::move(*op);
    else if (final_error(op.error()))
      co_return op.error();
  }

  std::vector<reply> out(n);
  std::vector<bool> broadcast_done(units.size(), false);
  for (auto& b : batches) {
    bool failed = !b.op;
    if (b.op) {
      if (auto ec = co_await await_op(b.op, opts_.command_timeout)) {
        if (final_error(ec)) co_return ec;
        failed = true;
      }
    }
    if (failed) {
      for (std::size_t u : b.units)
        if (units[u].slot != every_node) resend.push_back(u);
      continue;
    }
    std::size_t at = 0;
    for (std::size_t u : b.units) {
      const std::span<reply> got(b.op->many.data() + at, units[u].count);
      at += units[u].count;
      if (units[u].slot == every_node) {
        // The first answer, or an error reply if any node gave one.
        if (!broadcast_done[u] || (got[0].is_error() && !out[units[u].first].is_error()))
          out[units[u].first] = std::move(got[0]);
        broadcast_done[u] = true;
        continue;
      }
      if (needs_resend(got) != nullptr) {
        resend.push_back(u);
        continue;
      }
      std::move(got.begin(), got.end(), out.begin() + std::ptrdiff_t(units[u].first));
    }
  }
  for (std::size_t u : broadcasts) {
    if (broadcast_done[u]) continue;
    auto r = co_await exec_all(cmds[units[u].first]);
    if (!r) co_return r.error();
    out[units[u].first] = std::move(*r);
  }
  // A redirected or failed unit is sent again alone (following its redirects), in order.
  std::sort(resend.begin(), resend.end());
  for (std::size_t u : resend) {
    auto r =
        co_await exec_unit(std::span(cmds).subspan(units[u].first, units[u].count), units[u].slot);
    if (!r) co_return r.error();
    std::move(r->begin(), r->end(), out.begin() + std::ptrdiff_t(units[u].first));
  }
  co_return out;
}

}  // namespace stopgate::redis::detail
