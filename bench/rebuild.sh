#!/usr/bin/env bash
# `stopgatectl contacts rebuild --from-evidence` throughput (issue: scale-out and HA, item 6).
# One run, one machine: a generated evidence log of N records (bench/gen_evidence.py: 60%
# decisions, 39% opt-outs, consents, opt-ins and forgets, hash-chained as a gateway writes it),
# a fresh redis-server, then in the same run:
#   - baseline A: `--dry-run` (read, filter and parse the log; no Redis): the reading ceiling;
#   - baseline B: redis-benchmark, a one-key Lua script (EVAL), pipelined: Redis's own ceiling
#     for one script call on this machine (every replayed write is one script);
#   - the rebuild into the empty Redis, then again over the rebuilt one (idempotent re-run).
# Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/rebuild.sh [RECORDS] [ROUNDS]     (defaults: 1,000,000 records, 2 rounds)
#
# BENCH_BIN=DIR runs another build tree's binaries without building (as bench/check_api.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-2}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
. bench/lib.sh
bench_binaries stopgatectl
ctl=$b/tools/stopgatectl/stopgatectl
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
dir=$(mktemp -d "$work/rebuild-XXXXXX")
port=$((20000 + RANDOM % 20000))
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null || true; rm -rf "$dir"' EXIT
python3 bench/gen_evidence.py "$dir/evidence" "$n"
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done
url=tcp://127.0.0.1:$port
key() { redis-cli -p "$port" SET stopgate:contacts:pseudonym-key 0123456789abcdef0123456789abcdef >/dev/null; }

# "... in S s (R records/s, W replayed/s)" -> "R W"
rates() { sed -n 's/.*(\([0-9,]*\) records\/s, \([0-9,]*\) replayed\/s).*/\1 \2/p' | tr -d ,; }

echo
echo "| round | dry run: records/s | Lua EVAL/s (redis-benchmark) | rebuild, empty Redis: records/s | replayed writes/s | re-run: records/s | rebuild ÷ dry run | writes ÷ EVAL |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  read -r dry _ < <("$ctl" --redis "$url" contacts rebuild --from-evidence --dir "$dir/evidence" --dry-run | rates)
  evals=$(redis-benchmark -p "$port" -n 1000000 -P 64 -q EVAL "return redis.call('INCR', KEYS[1])" 1 k 2>/dev/null |
    tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
  redis-cli -p "$port" FLUSHALL >/dev/null; key
  read -r recs writes < <("$ctl" --redis "$url" contacts rebuild --from-evidence --dir "$dir/evidence" | rates)
  read -r again _ < <("$ctl" --redis "$url" contacts rebuild --from-evidence --dir "$dir/evidence" | rates)
  awk -v r="$r" -v d="$dry" -v e="$evals" -v rc="$recs" -v w="$writes" -v a="$again" \
    'BEGIN { printf "| %s | %s | %.0f | %s | %s | %s | %.2f | %.2f |\n", r, d, e, rc, w, a, rc / d, w / e }'
done
echo
echo "records: $n ($(du -m "$dir/evidence" | cut -f1) MB of evidence); Redis keys after: $(redis-cli -p "$port" DBSIZE), memory: $(redis-cli -p "$port" INFO memory | tr -d '\r' | sed -n 's/^used_memory_human://p')"
