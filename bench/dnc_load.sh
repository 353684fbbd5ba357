#!/usr/bin/env bash
# DNC list load benchmark (issue: foundation). One run, one machine, same file:
#   1. our load: stopgatectl dnc load (read, parse, build bitmaps, SET per area code, switch)
#   2. the time until a running process (dnc_mirror_probe) holds the new generation
#   3. the naive baseline: SADD of every number into one Redis set, pipelined
#   4. in-process membership checks in batches of 1,000 (Google Benchmark)
# Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/dnc_load.sh [NPAS] [PER_NPA]        (defaults 40 625000 = 25 million numbers)
set -euo pipefail
cd "$(dirname "$0")/.."
npas=${1:-40}
per=${2:-625000}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
tools/deps
tools/build build >/dev/null
b=build
file="$work/registry-${npas}x${per}.txt"
[ -f "$file" ] || $b/tools/gen_registry --out "$file" --npas "$npas" --per-npa "$per"
numbers=$((npas * per))

port_dir=$(mktemp -d "$work/redis-XXXXXX")
sock="$port_dir/redis.sock"
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$port_dir" --save "" \
  --appendonly no --daemonize no --logfile "$port_dir/redis.log" &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; rm -rf "$port_dir"' EXIT
for _ in $(seq 100); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.05; done
url="unix://$sock"
mem() { redis-cli -s "$sock" INFO memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r'; }
now() { date +%s.%N; }

# Page-cache the file so both loaders read it from memory.
cat "$file" >/dev/null

base_mem=$(mem)
t0=$(now)
$b/tools/stopgatectl/stopgatectl --redis "$url" dnc load --list federal --format ftc "$file" | tee "$work/ours.txt"
t1=$(now)
ours_s=$(echo "$t1 - $t0" | bc -l)
ours_mem=$(( $(mem) - base_mem ))

# A running process holding generation 1 sees generation 2 arrive.
$b/tools/dnc_mirror_probe --redis "$url" --list federal --count 1 > "$work/probe.txt" &
ppid=$!
for _ in $(seq 200); do grep -q "waiting" "$work/probe.txt" 2>/dev/null && break; sleep 0.05; done
$b/tools/stopgatectl/stopgatectl --redis "$url" dnc load --list federal --format ftc "$file" >/dev/null
wait $ppid
cat "$work/probe.txt"
install_ms=$(sed -n 's/.*installed \([0-9.]*\) ms.*/\1/p' "$work/probe.txt" | tail -1)

redis-cli -s "$sock" FLUSHALL >/dev/null
sleep 1
base_mem=$(mem)
t0=$(now)
$b/tools/dnc_sadd_baseline --redis "$url" "$file" | tee "$work/baseline.txt"
t1=$(now)
sadd_s=$(echo "$t1 - $t0" | bc -l)
sadd_mem=$(( $(mem) - base_mem ))

$b/bench/list_lookup_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=console | tee "$work/lookup.txt"
lookup=$(awk '/BM_contains_batch_1000_median/{for(i=1;i<=NF;i++) if($i ~ /items_per_second=/){sub("items_per_second=","",$i); print $i}}' "$work/lookup.txt")

ours_rate=$(echo "$numbers / $ours_s" | bc -l)
sadd_rate=$(echo "$numbers / $sadd_s" | bc -l)
printf '\n| measure | stopgate | SADD baseline | ratio |\n|---|---|---|---|\n'
printf '| load %s numbers, end to end (s) | %.2f | %.2f | %.1fx faster |\n' "$numbers" "$ours_s" "$sadd_s" "$(echo "$sadd_s / $ours_s" | bc -l)"
printf '| load rate (numbers/s) | %.2f M | %.2f M | %.1fx |\n' "$(echo "$ours_rate/1000000" | bc -l)" "$(echo "$sadd_rate/1000000" | bc -l)" "$(echo "$ours_rate / $sadd_rate" | bc -l)"
printf '| Redis memory per area code (MB) | %.3f | %.3f | %.1fx less |\n' "$(echo "$ours_mem/$npas/1000000" | bc -l)" "$(echo "$sadd_mem/$npas/1000000" | bc -l)" "$(echo "$sadd_mem / $ours_mem" | bc -l)"
printf '| announcement to in-process copy (ms) | %s | - | |\n' "${install_ms:-?}"
printf '| in-process checks, batches of 1,000 (per core) | %s | - | |\n' "${lookup:-?}"
