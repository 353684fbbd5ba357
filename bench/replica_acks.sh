#!/usr/bin/env bash
# What redis.min_replica_acks costs an opt-out (issue: scale-out and HA, item 5). One run, one
# machine: a Redis primary with one replica, the gateway on it twice (min_replica_acks 0, then
# 1: each opt-out waits for WAIT 1 before its answer), the same opt-out load through the socket
# API each time (tools/stopgate_loadgen --op optout), in alternating rounds so that the
# machine's drift hits both alike. Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/replica_acks.sh [SECONDS] [ROUNDS]     (defaults: 8 s per measurement, 2 rounds)
#
# BENCH_BIN=DIR runs another build tree's binaries without building (as bench/check_api.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-2}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
. bench/lib.sh
bench_binaries stopgate stopgate_loadgen
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
port=$((20000 + RANDOM % 20000))
rport=$((port + 3))
api=$((port + 1))
http=$((port + 2))
dir=$(mktemp -d "$work/acks-XXXXXX")
mkdir -p "$dir/primary" "$dir/replica"
# Both with an append-only file fsync'ed every second, as a production primary and replica.
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly yes --appendfsync everysec \
  --dir "$dir/primary" --logfile "$dir/primary.log" &
ppid_=$!
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly yes --appendfsync everysec \
  --replicaof 127.0.0.1 "$port" --dir "$dir/replica" --logfile "$dir/replica.log" &
rpid=$!
gpid=
stop_gateway() {
  if [ -n "$gpid" ]; then kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null || true; gpid=; fi
}
cleanup() {
  stop_gateway
  kill "$ppid_" "$rpid" 2>/dev/null; wait "$ppid_" "$rpid" 2>/dev/null || true; rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 200); do
  [ "$(redis-cli -p "$port" INFO replication 2>/dev/null | tr -d '\r' | sed -n 's/^connected_slaves://p')" = 1 ] && break
  sleep 0.05
done
lg=$b/tools/stopgate_loadgen

# One measurement: a gateway with min_replica_acks=$1, load "$2".
measure() {
  local acks=$1; shift
  cat > "$dir/gw.toml" <<TOML
[server]
data_dir = "$dir/gw"
threads = 2
log_level = "warn"
[api]
listen = "127.0.0.1:$api"
[http]
listen = "127.0.0.1:$http"
[redis]
url = "tcp://127.0.0.1:$port"
min_replica_acks = $acks
[evidence]
hmac_key = "file:evidence.key"
[carriers.sandbox]
type = "sandbox"
[senders.default]
route = ["sandbox"]
[lists.internal]
kind = "internal"
TOML
  "$b/gateway/stopgate" --config "$dir/gw.toml" >> "$dir/gw.log" 2>&1 &
  gpid=$!
  for _ in $(seq 100); do "$lg" --port "$api" --idle --seconds 0.1 >/dev/null 2>&1 && break; sleep 0.1; done
  "$lg" --port "$api" --op optout "$@" -s "$secs"
  stop_gateway
}

declare -A out
for r in $(seq "$rounds"); do
  for acks in 0 1; do
    out[$acks,idle,$r]=$(measure "$acks" --idle)
    out[$acks,load,$r]=$(measure "$acks" -c 16 -d 4)
    echo "round $r acks $acks: idle: ${out[$acks,idle,$r]}"
    echo "round $r acks $acks: load: ${out[$acks,load,$r]}"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

num() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p"; }
rps() { sed -n 's/.*s: \([0-9]*\) requests\/s.*/\1/p'; }
# The mean of the rounds is printed.
avg() { awk '{s += $1} END {printf "%.0f", s / NR}'; }
ip50=($(for acks in 0 1; do for r in $(seq "$rounds"); do echo "${out[$acks,idle,$r]}" | num p50; done | avg; echo; done))
ip99=($(for acks in 0 1; do for r in $(seq "$rounds"); do echo "${out[$acks,idle,$r]}" | num p99; done | avg; echo; done))
lrps=($(for acks in 0 1; do for r in $(seq "$rounds"); do echo "${out[$acks,load,$r]}" | rps; done | avg; echo; done))
lp99=($(for acks in 0 1; do for r in $(seq "$rounds"); do echo "${out[$acks,load,$r]}" | num p99; done | avg; echo; done))
printf '\n| API opt-outs (mean of %s rounds) | min_replica_acks = 0 | min_replica_acks = 1 | ratio 1 / 0 |\n|---|---|---|---|\n' "$rounds"
printf '| one at a time: latency p50 | %s us | %s us | %.2f |\n' "${ip50[0]}" "${ip50[1]}" "$(echo "${ip50[1]} / ${ip50[0]}" | bc -l)"
printf '| one at a time: latency p99 | %s us | %s us | %.2f |\n' "${ip99[0]}" "${ip99[1]}" "$(echo "${ip99[1]} / ${ip99[0]}" | bc -l)"
printf '| 16 connections x 4 in flight: opt-outs/s | %s | %s | %.2f |\n' "${lrps[0]}" "${lrps[1]}" "$(echo "${lrps[1]} / ${lrps[0]}" | bc -l)"
printf '| 16 connections x 4 in flight: latency p99 | %s us | %s us | %.2f |\n' "${lp99[0]}" "${lp99[1]}" "$(echo "${lp99[1]} / ${lp99[0]}" | bc -l)"
