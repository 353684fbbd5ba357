#!/usr/bin/env bash
# Check-path benchmark (issue: the check path). One run, one machine: Redis ceilings measured
# with redis-benchmark on the same redis-server, then the gateway through its socket API with
# tools/stopgate_loadgen. Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/check_api.sh [SECONDS]      (default 10 s per gateway measurement)
#
# Builds only what it runs (stopgate, stopgate_loadgen) in build/. BENCH_BIN=DIR runs the
# binaries of another build tree instead, without building (DIR/gateway/stopgate and
# DIR/tools/stopgate_loadgen; e.g. a copy of main's binaries for a before/after pair).
# BUSY_POLL_US sets the gateway's server.busy_poll_us (unset: its default); CONTACT_CACHE_MB
# its redis.contact_cache_mb (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
. bench/lib.sh
bench_binaries stopgate stopgate_loadgen
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
port=$((20000 + RANDOM % 20000))
api=$((port + 1))
http=$((port + 2))
dir=$(mktemp -d "$work/check-XXXXXX")
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
  --dir "$dir" --logfile "$dir/redis.log" &
rpid=$!
gpid=
cleanup() {
  [ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
  kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done

# Ceilings on the same Redis.
redis-cli -p "$port" SETBIT dnc:B:226 5550123 1 >/dev/null
members=$(seq 2262000011 2262000074 | tr '\n' ' ')
redis-cli -p "$port" SADD dnc:set $members >/dev/null
getbit=$(redis-benchmark -p "$port" -n 2000000 -P 16 -c 50 --csv GETBIT dnc:B:226 5550123 | tail -1 | cut -d, -f2 | tr -d '"')
smis=$(redis-benchmark -p "$port" -n 150000 -P 1 -c 50 --csv SMISMEMBER dnc:set $members | tail -1 | cut -d, -f2 | tr -d '"')
ping_p99=$(redis-benchmark -p "$port" -n 50000 -c 1 -t ping_inline | awk '/latency summary/{getline; getline; print $5}')

cat > "$dir/gw.toml" <<TOML
[server]
data_dir = "$dir/gw"
threads = 2
${BUSY_POLL_US:+busy_poll_us = $BUSY_POLL_US}
log_level = "warn"
[api]
listen = "127.0.0.1:$api"
max_connections = 2000
[http]
listen = "127.0.0.1:$http"
[redis]
url = "tcp://127.0.0.1:$port"
contact_cache_mb = ${CONTACT_CACHE_MB:-16}
[evidence]
hmac_key = "file:evidence.key"
[carriers.sandbox]
type = "sandbox"
[senders.default]
route = ["sandbox"]
[lists.internal]
kind = "internal"
TOML
"$b/gateway/stopgate" --config "$dir/gw.toml" > "$dir/gw.log" 2>&1 &
gpid=$!
lg=$b/tools/stopgate_loadgen
for _ in $(seq 100); do "$lg" --port "$api" --idle --seconds 0.1 >/dev/null 2>&1 && break; sleep 0.1; done

batch=$("$lg" --port "$api" -c 4 -d 2 -b 1000 -s "$secs")
single=$("$lg" --port "$api" -c 50 -d 64 -s "$secs")
idle=$("$lg" --port "$api" --idle -s "$secs")
# Resident memory with 1,000 connections open (one request in flight each).
"$lg" --port "$api" -c 1000 -d 1 -s 6 > "$dir/many.txt" &
lpid=$!
sleep 4
rss_kb=$(awk '/VmRSS/{print $2}' /proc/$gpid/status)
wait $lpid || true
echo "batch:  $batch"
echo "single: $single"
echo "idle:   $idle"
echo "1000 connections: $(cat "$dir/many.txt"); gateway RSS ${rss_kb} kB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

num() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p"; }
batch_nps=$(echo "$batch" | sed -n 's/.* \([0-9]*\) numbers\/s.*/\1/p')
single_rps=$(echo "$single" | sed -n 's/.*s: \([0-9]*\) requests\/s.*/\1/p')
single_p50=$(echo "$single" | num "p50"); single_p99=$(echo "$single" | num "p99")
idle_p50=$(echo "$idle" | num "p50"); idle_p99=$(echo "$idle" | num "p99")
printf '\n| measure | stopgate | same-run ceiling | ratio |\n|---|---|---|---|\n'
printf '| batch checks (1,000 per request, 4 connections x 2 deep) | %s numbers/s | SMISMEMBER 64: %.0f checks/s | %.2f |\n' \
  "$batch_nps" "$(echo "$smis * 64" | bc -l)" "$(echo "$batch_nps / ($smis * 64)" | bc -l)"
printf '| single checks pipelined 64 deep x 50 connections | %s checks/s (p50 %s us, p99 %s us) | GETBIT -P 16 -c 50: %s/s | %.2f |\n' \
  "$single_rps" "$single_p50" "$single_p99" "$getbit" "$(echo "$single_rps / $getbit" | bc -l)"
printf '| idle single check, one connection | p50 %s us, p99 %s us | PING p99 %s ms | %.2f |\n' \
  "$idle_p50" "$idle_p99" "$ping_p99" "$(echo "$idle_p99 / ($ping_p99 * 1000)" | bc -l)"
printf '| gateway resident memory, 1,000 connections | %s MB | - | |\n' "$(echo "$rss_kb / 1024" | bc)"
