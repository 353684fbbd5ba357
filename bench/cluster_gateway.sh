#!/usr/bin/env bash
# The gateway on a 3-primary Redis Cluster against the same gateway on one Redis server, same
# run (issue: scale-out and HA, item 8). All Redis processes share this machine's 2 cores with
# the gateway and the load generators, so the ratios are the cluster's overhead (routing, a
# connection per node, pipelines split by node, no local contact cache), not scale.
#
# Per target and round, a fresh gateway (2 threads) and:
#   - batch checks: 1,000 numbers per request, 4 connections x 2 deep (tools/stopgate_loadgen);
#   - single checks pipelined 64 deep x 50 connections: throughput and p99;
#   - idle single check, one connection, one request at a time: p50 and p99;
#   - durable STOP webhooks, 50 connections, unpaced (tools/webhook_loadgen, sandbox format).
# Targets: "single" (one redis-server, the gateway's defaults: 16 MB contact cache), "single,
# no cache" (contact_cache_mb = 0: every check reads Redis, as on a cluster) and "cluster".
# Rounds alternate the targets; each measurement starts on an emptied Redis. Prints a markdown
# table for docs/BENCHMARKS.md.
#
#   bench/cluster_gateway.sh [SECONDS] [ROUNDS]      (defaults 8 2)
#
# BENCH_BIN=DIR runs another build tree's binaries without building (as bench/check_api.sh).
# BENCH_TARGETS="single cluster" measures some targets only (the summary then needs all three).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-2}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
. bench/lib.sh
bench_binaries stopgate stopgate_loadgen webhook_loadgen
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
dir=$(mktemp -d "$work/cgw-XXXXXX")
base=$((20000 + RANDOM % 20000))
pids=()
gpid=
cleanup() {
  [ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"
}
trap cleanup EXIT
bench_redis "$dir" "$base"
bench_cluster "$dir" $((base + 1))
single_url=tcp://127.0.0.1:$base
api=$((base + 10))
http=$((base + 11))
secret=bench-webhook-secret
lg=$b/tools/stopgate_loadgen

# CPU time (µs) the Redis processes of a target used so far: the single server, or the
# three cluster nodes (pids[1..3]).
redis_cpu_us() {  # single|cluster
  local p t=0 hz
  hz=$(getconf CLK_TCK)
  if [ "$1" = single ]; then set -- "${pids[0]}"; else set -- "${pids[1]}" "${pids[2]}" "${pids[3]}"; fi
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $((t * 1000000 / hz))
}

# measure NAME URL CACHE_MB KIND -> one line: batch/s single/s single_p99_us idle_p50_us
# idle_p99_us stops/s stops_p99_ms redis_us_per_batch_check redis_us_per_single_check
# redis_us_per_stop
measure() {
  local name=$1 url=$2 cache=$3 kind=$4 gw=$dir/$1 i
  mkdir -p "$gw"
  # Every measurement starts from an empty Redis: what an earlier one left (STOPs' queued
  # confirmations, which the sandbox outbox drains far slower than they come) would be
  # drained during this one's checks.
  if [ "$kind" = single ]; then
    redis-cli -p "$base" FLUSHALL >/dev/null
  else
    for i in 1 2 3; do redis-cli -p $((base + i)) FLUSHALL >/dev/null; done
  fi
  cat > "$gw/gw.toml" <<TOML
[server]
data_dir = "$gw"
instance = "$name"
threads = 2
log_level = "warn"
[api]
listen = "127.0.0.1:$api"
max_connections = 2000
[http]
listen = "127.0.0.1:$http"
[redis]
url = "$url"
contact_cache_mb = $cache
[evidence]
hmac_key = "file:evidence.key"
[carriers.sandbox]
type = "sandbox"
webhook_secret = "$secret"
[senders.acme]
numbers = ["+14155552000"]
route = ["sandbox"]
[lists.internal]
kind = "internal"
TOML
  "$b/gateway/stopgate" --config "$gw/gw.toml" > "$gw/gw.log" 2>&1 &
  gpid=$!
  for _ in $(seq 100); do "$lg" --port "$api" --idle --seconds 0.1 >/dev/null 2>&1 && break; sleep 0.1; done
  local batch single idle stops c0 c1 c2 c3 c4
  c0=$(redis_cpu_us "$kind")
  batch=$("$lg" --port "$api" -c 4 -d 2 -b 1000 -s "$secs")
  c1=$(redis_cpu_us "$kind")
  single=$("$lg" --port "$api" -c 50 -d 64 -s "$secs")
  c2=$(redis_cpu_us "$kind")
  idle=$("$lg" --port "$api" --idle -s "$secs")
  c3=$(redis_cpu_us "$kind")
  stops=$("$b/tools/webhook_loadgen" --port "$http" --carrier sandbox --type sandbox --secret "$secret" \
    --to +14155552000 -c 50 -s "$secs" --run-id "$name")
  c4=$(redis_cpu_us "$kind")
  kill "$gpid"; wait "$gpid" 2>/dev/null || true; gpid=
  num() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" | head -1; }
  local bt st wr
  bt=$(echo "$batch" | sed -n 's/.* \([0-9]*\) numbers\/s.*/\1/p')
  st=$(echo "$single" | sed -n 's/.*s: \([0-9]*\) requests\/s.*/\1/p')
  wr=$(echo "$stops" | awk '/requests\/s/{for(i=1;i<=NF;i++) if($(i+1)=="requests/s;") printf "%.0f", $i}')
  echo "$bt" "$st" "$(echo "$single" | num p99)" "$(echo "$idle" | num p50)" "$(echo "$idle" | num p99)" "$wr" \
    "$(echo "$stops" | awk '/requests\/s/{for(i=1;i<=NF;i++) if($i=="p99") printf "%.2f", $(i+1)/1000}')" \
    "$(awk -v c="$((c1 - c0))" -v n="$bt" -v s="$secs" 'BEGIN{printf "%.2f", c / (n * s)}')" \
    "$(awk -v c="$((c2 - c1))" -v n="$st" -v s="$secs" 'BEGIN{printf "%.2f", c / (n * s)}')" \
    "$(awk -v c="$((c4 - c3))" -v n="$wr" -v s="$secs" 'BEGIN{printf "%.1f", c / (n * s)}')"
}

echo
echo "| round | target | batch checks (numbers/s) | single checks pipelined (/s) | their p99 (us) | idle single check p50 / p99 (us) | STOP webhooks (/s) | their p99 (ms) | Redis CPU per batch check / single check / STOP (us) |"
echo "|---|---|---|---|---|---|---|---|---|"
declare -A sum
for r in $(seq "$rounds"); do
  for t in ${BENCH_TARGETS:-single nocache cluster}; do
    case $t in
      single) line=$(measure "s$r" "$single_url" 16 single) ;;
      nocache) line=$(measure "n$r" "$single_url" 0 single) ;;
      cluster) line=$(measure "c$r" "$cluster_url" 16 cluster) ;;
    esac
    read -r bt st sp ip50 ip99 wr wp cb cs cw <<< "$line"
    echo "| $r | $t | $bt | $st | $sp | $ip50 / $ip99 | $wr | $wp | $cb / $cs / $cw |"
    sum[$t,b]=$(( ${sum[$t,b]:-0} + bt )); sum[$t,s]=$(( ${sum[$t,s]:-0} + st )); sum[$t,w]=$(( ${sum[$t,w]:-0} + wr ))
    sum[$t,ip99]=$(echo "${sum[$t,ip99]:-0} + $ip99" | bc -l); sum[$t,sp]=$(echo "${sum[$t,sp]:-0} + $sp" | bc -l)
  done
done
if [ -n "${BENCH_TARGETS:-}" ]; then exit 0; fi  # the summary needs every target
echo
echo "| cluster ÷ | batch checks | single checks pipelined | their p99 | idle single-check p99 | STOP webhooks |"
echo "|---|---|---|---|---|---|"
for t in single nocache; do
  awk -v t="$t" -v cb="${sum[cluster,b]}" -v tb="${sum[$t,b]}" -v cs="${sum[cluster,s]}" -v ts="${sum[$t,s]}" \
      -v csp="${sum[cluster,sp]}" -v tsp="${sum[$t,sp]}" -v ci="${sum[cluster,ip99]}" -v ti="${sum[$t,ip99]}" \
      -v cw="${sum[cluster,w]}" -v tw="${sum[$t,w]}" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", t, cb/tb, cs/ts, csp/tsp, ci/ti, cw/tw }'
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
  echo "node $((base + i)): $(redis-cli -p $((base + i)) DBSIZE) keys, $(redis-cli -p $((base + i)) INFO memory | tr -d '\r' | sed -n 's/^used_memory_human://p')"
done
