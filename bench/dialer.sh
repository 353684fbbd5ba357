#!/usr/bin/env bash
# Call dialer benchmark (issue: call dialers). One run, one machine, one gateway:
#   1. SIP: SIPp calls a SIPp "carrier" directly (the baseline), then through stopgate's
#      redirect gate (INVITE -> 302 -> ACK -> INVITE to the carrier), alternating direct and
#      gate runs; 4 of 5 numbers are allowed, 1 is opted out (608). Post-dial delay: the first
#      INVITE to the carrier's 180, per call, from SIPp's log ([timestamp], microseconds). The
#      gate's cost is the difference of the percentiles at the same rate in the same run.
#   2. FastAGI: tools/bin/agi_loadgen runs Asterisk's exchange back to back on N connections
#      (the same 4:1 mix): checks per second and latency from connect to close.
# Every check is committed (a durable evidence record before the answer), as in production.
# Redis runs with appendonly yes / appendfsync everysec. Calling windows are off in the
# benchmark configuration so the decisions do not depend on the hour.
#
#   bench/dialer.sh [RATE] [SECONDS] [AGI_CONNECTIONS] [ROUNDS]    (default 1000 10 32 2)
#
# BENCH_BIN=DIR runs DIR/gateway/stopgate and DIR/tools/agi_loadgen instead of building build/.
# BUSY_POLL_US sets the gateway's server.busy_poll_us (unset: its default).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}
secs=${2:-10}
agi_conns=${3:-32}
rounds=${4:-2}
if [ -n "${BENCH_BIN:-}" ]; then
  b=$(cd "$BENCH_BIN" && pwd)
else
  tools/deps
  tools/build build >/dev/null
  b=$PWD/build
fi
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores" >&2
work=$(mktemp -d "${BENCH_DATA:-/tmp}/dialer-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
rport=$((base + 1)); api=$((base + 2)); http=$((base + 3)); agi=$((base + 4)); sip=$((base + 5))
carrier=$((base + 6)); uac=$((base + 7))
wait_port() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly yes --appendfsync everysec \
  --daemonize no --dir "$work" --logfile "$work/redis.log" & pids+=($!)
wait_port "$rport"
cat > "$work/gw.toml" <<TOML
[server]
data_dir = "$work/gw"
instance = "bench"
threads = 2
log_level = "warn"
${BUSY_POLL_US:+busy_poll_us = $BUSY_POLL_US}
[api]
listen = "127.0.0.1:$api"
[http]
listen = "127.0.0.1:$http"
[redis]
url = "tcp://127.0.0.1:$rport"
[evidence]
hmac_key = "file:evidence.key"
[carriers.sandbox]
type = "sandbox"
[senders.acme]
numbers = ["+14155552000"]
route = ["sandbox"]
[lists.internal]
kind = "internal"
[policy.marketing]
apply_calling_window = false
apply_restricted_days = false
[dialer.fastagi]
listen = "127.0.0.1:$agi"
[dialer.sip]
listen = "127.0.0.1:$sip"
transports = ["udp"]
[dialer.sip.senders.acme]
sources = ["127.0.0.1/32"]
trunk = "sip:127.0.0.1:$carrier"
tech = "manual"
TOML
"$b/gateway/stopgate" --config "$work/gw.toml" > "$work/gw.log" 2>&1 & pids+=($!)
gw_pid=$!
wait_port "$http"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done
curl -sf -X POST "http://127.0.0.1:$http/v1/ops" \
  -d '{"op":"optout","to":"+13125552671","sender":"acme","source":{"channel":"phone"}}' >/dev/null
printf 'SEQUENTIAL\n+12125552671\n+12125552672\n+13125552671\n+12125552673\n+12125552674\n' > "$work/numbers.csv"

sipp -sf bench/sipp/carrier.xml -i 127.0.0.1 -p "$carrier" -nostdin -max_socket 2000 \
  > "$work/carrier.out" 2>&1 & pids+=($!)
sleep 0.5

calls=$((rate * secs))
# run NAME TARGET: one SIPp run at $rate calls/s; prints the result line.
run() {
  local name=$1 target=$2 log="$work/$1.log"
  rm -f "$log"
  local t0 t1
  t0=$(date +%s.%N)
  sipp -sf "bench/sipp/$name.xml" -inf "$work/numbers.csv" "$target" -i 127.0.0.1 -p "$uac" \
    -m "$calls" -r "$rate" -l $((rate * 2)) -nostdin -timeout $((secs * 4 + 30))s \
    -trace_logs -log_file "$log" -trace_stat -stf "$work/$name.stat" > "$work/$name.out" 2>&1 || true
  t1=$(date +%s.%N)
  python3 - "$log" "$name" "$t0" "$t1" "$calls" <<'PY'
import sys
log, name, t0, t1, calls = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
start, pdd = {}, []
for line in open(log):
    f = line.split()
    if len(f) < 2: continue
    t = float(f[-1])
    if f[0] == "S": start[f[1]] = t
    elif f[0] == "E" and f[1] in start: pdd.append((t - start[f[1]]) * 1e3)
pdd.sort()
pct = lambda p: pdd[min(len(pdd) - 1, int(p * len(pdd)))] if pdd else float("nan")
print(f"{name:6} {len(start):6d} attempts in {t1 - t0:5.1f} s ({len(start) / (t1 - t0):6.0f}/s), "
      f"{len(pdd):6d} reached the carrier; post-dial delay ms p50 {pct(.5):.3f} p90 {pct(.9):.3f} "
      f"p99 {pct(.99):.3f} max {pdd[-1] if pdd else float('nan'):.3f}")
PY
}
echo "== SIP: $rate attempts/s for ${secs}s per run, 4 allowed : 1 denied through the gate"
for r in $(seq "$rounds"); do
  run direct "127.0.0.1:$carrier"
  run gate "127.0.0.1:$sip"
done
echo "gate: $(cat "$work"/gw/evidence/*.jsonl | grep -c '"type":"decision"') decision records in the evidence log"
# Where the gate's time goes: the committed checks' own latency (the gateway's histogram).
check_latency() {
  curl -sf "http://127.0.0.1:$http/metrics" | python3 -c '
import sys
b = []
for line in sys.stdin:
    if line.startswith("stopgate_check_duration_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        b.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
b.sort()
n = b[-1][1] if b else 0
q = lambda p: next((le for le, c in b if c >= p * n), float("nan"))
print(f"{int(n)} checks so far; check latency (histogram bucket bounds) p50 <= {q(.5)*1e3:g} ms, p99 <= {q(.99)*1e3:g} ms")'
}
check_latency

# CPU seconds (user + system) the gateway has used so far.
gw_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$gw_pid/stat"; }
echo "== FastAGI: $agi_conns connections for ${secs}s"
cpu0=$(gw_cpu)
"$b/tools/agi_loadgen" --port "$agi" -c "$agi_conns" -s "$secs" \
  --to +12125552671 +12125552672 +13125552671 +12125552673 +12125552674
echo "stopgate CPU during the FastAGI run: $(echo "$(gw_cpu) - $cpu0" | bc) s"
check_latency
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
