#!/usr/bin/env bash
# Inbound STOP webhook benchmark (issue: STOP webhooks). One run, one machine:
#   1. ceiling: `wrk` on GET /healthz of the same gateway (HTTP/1.1 keep-alive, same connections);
#   2. signed inbound STOP webhooks (tools/webhook_loadgen, sandbox wire format with an
#      HMAC-SHA256 webhook secret), each a new consumer: signature check, keyword
#      classification, opt-out in Redis, evidence fsynced, confirmation queued — all before
#      the 200; unpaced for the maximum, then paced at half of it for the p99 there;
#   3. propagation: one STOP at a time through gateway A, and after each 200 a check of the
#      same number through gateway B sharing the Redis: the time from the 200 to B's deny.
# Redis runs with appendonly yes / appendfsync everysec (the managed Redis's setting).
#
#   bench/webhooks.sh [SECONDS] [CONNECTIONS]         (default 10 s, 50 connections)
#
# BENCH_BIN=DIR runs DIR/gateway/stopgate and DIR/tools/webhook_loadgen instead of building
# build/ (e.g. a copy of an earlier build's binaries, for a before/after pair). BUSY_POLL_US
# sets the gateways' server.busy_poll_us (unset: their default).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
if ! command -v wrk >/dev/null; then
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null
fi
if [ -n "${BENCH_BIN:-}" ]; then
  b=$(cd "$BENCH_BIN" && pwd)
else
  tools/deps
  tools/build build >/dev/null
  b=$PWD/build
fi
echo "binaries: $b; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
work=$(mktemp -d "${BENCH_DATA:-/tmp}/webhooks-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
rport=$((base + 1)); a_api=$((base + 2)); a_http=$((base + 3)); b_api=$((base + 4)); b_http=$((base + 5))
wait_port() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
secret=bench-webhook-secret
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly yes --appendfsync everysec \
  --daemonize no --dir "$work" --logfile "$work/redis.log" & pids+=($!)
wait_port "$rport"
gateway() {  # NAME API HTTP
  mkdir -p "$work/$1"
  cat > "$work/$1/gw.toml" <<TOML
[server]
data_dir = "$work/$1"
instance = "$1"
threads = 2
${BUSY_POLL_US:+busy_poll_us = $BUSY_POLL_US}
log_level = "warn"
[api]
listen = "127.0.0.1:$2"
[http]
listen = "127.0.0.1:$3"
[redis]
url = "tcp://127.0.0.1:$rport"
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
  "$b/gateway/stopgate" --config "$work/$1/gw.toml" > "$work/$1/gw.log" 2>&1 & pids+=($!)
}
gateway a "$a_api" "$a_http"
gateway b "$b_api" "$b_http"
wait_port "$a_http"; wait_port "$b_api"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$a_http/readyz" >/dev/null && break; sleep 0.1; done

summary() {  # loadgen output -> "rate p50_ms p99_ms"
  awk '/requests\/s/{for(i=1;i<=NF;i++){if($(i+1)=="requests/s;")r=$i; if($i=="p50")p=$(i+1); if($i=="p99")q=$(i+1)}} END{printf "%.0f %.2f %.2f\n", r, p/1000, q/1000}' "$1"
}
wrk -t1 -c "$conns" -d "${secs}s" --latency "http://127.0.0.1:$a_http/healthz" > "$work/wrk.out"
h_rate=$(awk '/Requests\/sec/{printf "%.0f", $2}' "$work/wrk.out")
h_p99=$(awk '/^ +99%/{print $2}' "$work/wrk.out")
wl() { "$b/tools/webhook_loadgen" --port "$a_http" --carrier sandbox --type sandbox --secret "$secret" \
         --to +14155552000 "$@"; }
wl -c "$conns" -s 2 --run-id warm > /dev/null
wl -c "$conns" -s "$secs" --run-id max > "$work/max.out"
read -r w_rate w_p50 w_p99 < <(summary "$work/max.out")
half=$((w_rate / 2))
wl -c "$conns" -s "$secs" --rate "$half" --run-id half > "$work/half.out"
read -r hw_rate hw_p50 hw_p99 < <(summary "$work/half.out")
wl -s 5 --run-id prop --check-port "$b_api" --sender acme > "$work/prop.out"
cat "$work/wrk.out" "$work/max.out" "$work/half.out" "$work/prop.out" >&2
optouts=$(redis-cli -p "$rport" --scan --pattern '{c:*' | wc -l)
echo "contact keys in Redis after the run: $optouts" >&2
ratio=$(awk -v a="$w_rate" -v b="$h_rate" 'BEGIN{printf "%.2f", a/b}')
prop=$(sed -n 's/.*deny: \(.*\)$/\1/p' "$work/prop.out")
cat <<TABLE

| measure | result | same-run ceiling | ratio |
|---|---|---|---|
| durable STOP webhooks, $conns connections, unpaced | $w_rate /s (p50 $w_p50 ms, p99 $w_p99 ms) | wrk GET /healthz: $h_rate /s (p99 $h_p99) | $ratio |
| at half that rate ($half/s offered) | $hw_rate /s, p50 $hw_p50 ms, **p99 $hw_p99 ms** | | |
| 200 from gateway A -> gateway B denies (check round trip included) | $prop | | |
TABLE
