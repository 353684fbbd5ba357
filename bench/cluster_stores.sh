#!/usr/bin/env bash
# The slot-local stores on Redis Cluster against one Redis server, same run (issue: scale-out
# and HA, item 8, the parts that run on a cluster today): a 3-primary cluster (no replicas)
# and a single redis-server, all on this machine's cores, so the ratio is the cluster's
# overhead (routing, a connection per node, pipelines split by node), not scale.
#   - DNC load: `stopgatectl dnc load` of a generated registry (bitmaps spread over the shards);
#   - contact writes: `stopgatectl contacts rebuild --from-evidence` of a generated evidence log
#     (opt-outs, consents, opt-ins, forgets; per-slot change streams on the cluster).
# Rounds alternate single and cluster. Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/cluster_stores.sh [NPAS] [PER_NPA] [RECORDS] [ROUNDS]   (defaults 40 250000 500000 2)
#
# BENCH_BIN=DIR runs another build tree's binaries without building (as bench/check_api.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
npas=${1:-40}
per=${2:-250000}
records=${3:-500000}
rounds=${4:-2}
work=${BENCH_DATA:-/tmp/stopgate-bench}
mkdir -p "$work"
. bench/lib.sh
bench_binaries stopgatectl gen_registry
ctl=$b/tools/stopgatectl/stopgatectl
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
dir=$(mktemp -d "$work/cluster-XXXXXX")
base=$((20000 + RANDOM % 20000))
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
single=$base
bench_redis "$dir" "$single"
bench_cluster "$dir" $((base + 1))
single_url=tcp://127.0.0.1:$single

registry="$work/registry-${npas}x${per}.txt"
[ -f "$registry" ] || "$b/tools/gen_registry" --out "$registry" --npas "$npas" --per-npa "$per"
cat "$registry" >/dev/null  # page-cached for every load
python3 bench/gen_evidence.py "$dir/evidence" "$records"

flush() {  # url
  if [ "$1" = "$single_url" ]; then
    redis-cli -p "$single" FLUSHALL >/dev/null
  else
    for i in 1 2 3; do redis-cli -p $((base + i)) FLUSHALL >/dev/null; done
  fi
  redis-cli -c -p "${1##*:}" SET stopgate:contacts:pseudonym-key 0123456789abcdef0123456789abcdef >/dev/null 2>&1 ||
    redis-cli -c -p $((base + 1)) SET stopgate:contacts:pseudonym-key 0123456789abcdef0123456789abcdef >/dev/null
}
# "... N numbers/s" of dnc load; "(R records/s, W replayed/s)" of the rebuild.
load_rate() { "$ctl" --redis "$1" dnc load --list federal --force --format ftc "$registry" |
  sed -n 's/.* \([0-9,]*\) numbers\/s$/\1/p' | tr -d ,; }
rebuild_rate() { "$ctl" --redis "$1" contacts rebuild --from-evidence --dir "$dir/evidence" |
  sed -n 's/.*, \([0-9,]*\) replayed\/s).*/\1/p' | tr -d ,; }

used() { redis-cli -p "$1" INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'; }

echo
echo "| round | DNC load, single (numbers/s) | DNC load, cluster | cluster ÷ single | contact writes, single (/s) | contact writes, cluster | cluster ÷ single |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  flush "$single_url"; m0=$(used "$single")
  ls1=$(load_rate "$single_url"); m1=$(used "$single")
  ws1=$(rebuild_rate "$single_url"); m2=$(used "$single")
  flush "$cluster_url"; lc=$(load_rate "$cluster_url"); wc=$(rebuild_rate "$cluster_url")
  awk -v r="$r" -v ls="$ls1" -v lc="$lc" -v ws="$ws1" -v wc="$wc" \
    'BEGIN { printf "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", r, ls, lc, lc / ls, ws, wc, wc / ws }'
done
contacts=$(redis-cli -p "$single" --scan --pattern '{c:*}' | grep -c '^{c:[0-9a-f]*}$')
echo
echo "registry: $((npas * per)) numbers in $npas area codes; evidence: $records records"
echo "single server, last round: the registry took $(( (m1 - m0) / npas )) bytes per area code;" \
  "$contacts contacts (numbers with a hash) took $(( (m2 - m1) / contacts )) bytes each (used_memory)"
for i in 1 2 3; do
  echo "node $((base + i)): $(redis-cli -p $((base + i)) DBSIZE) keys, $(redis-cli -p $((base + i)) INFO memory | tr -d '\r' | sed -n 's/^used_memory_human://p')"
done
