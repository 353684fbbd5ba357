#!/usr/bin/env bash
# Relay benchmark (issue: the carrier relay). One run, one machine, same load tool:
#   1. baseline: Kannel 1.4.5 from Debian (bearerbox + smsbox) relaying HTTP sendsms requests
#      to Kannel's own fake SMSC client (`fakesmsc`, package kannel-extras); no checks;
#   1b. the relay leg alone, for scale: the curl tool's parallel mode (libcurl multi,
#      keep-alive) POSTing the twilio request straight to tools/fake_carrier, no gateway;
#   2. stopgate: the socket API's send op with every check and durable evidence on, relayed
#      through the twilio adapter to tools/fake_carrier;
#   3. stopgate again, paced by wrk at half of the rate measured in 2, for the p99 there.
# Kannel is driven by `wrk` (1 thread, HTTP/1.1 keep-alive, one request in flight per
# connection), stopgate by tools/bin/stopgate_loadgen (socket API), with the same number of
# requests in flight: CONNECTIONS x DEPTH (stopgate pipelines DEPTH requests on each of its
# CONNECTIONS connections; Kannel's sendsms does not pipeline, so wrk opens
# CONNECTIONS x DEPTH connections).
# Prints a markdown table for docs/BENCHMARKS.md.
#
#   bench/send_relay.sh [SECONDS] [CONNECTIONS] [DEPTH]   (default 10 s, 50 connections, depth 1)
#
# Environment: BUILD_DIR (default build) holds the binaries; NO_BUILD=1 uses them as they are
# (e.g. a copy of an earlier build, for before/after runs back to back); BUSY_POLL_US sets
# the gateway's server.busy_poll_us (unset: its default); KEEP=1 keeps the
# work directory; BENCH_DATA is where it is made (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
depth=${3:-1}
in_flight=$((conns * depth))
root=$PWD
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
missing=()
for p in kannel kannel-extras wrk curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
tools/deps
b=$(cd "$root" && realpath -m "${BUILD_DIR:-build}")
if [ -z "${NO_BUILD:-}" ]; then
  [ -f "$b/build.ninja" ] || cmake -S . -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$b" --target stopgate stopgate_loadgen fake_carrier -j"${STOPGATE_JOBS:-2}" >/dev/null
fi
work=$(mktemp -d "${BENCH_DATA:-/tmp}/send-relay-XXXXXX")
pids=()
stop_all() {  # stops every process started so far
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))   # ports base+1 .. base+9 on 127.0.0.1
wait_port() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
# wrk output -> "requests/s p50_ms p99_ms"
wrk_summary() {
  awk '/Requests\/sec/{r=$2} /^ +50%/{p50=$2} /^ +99%/{p99=$2} END{print r, p50, p99}' "$1" |
    awk 'function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
         {printf "%.0f %.2f %.2f\n", $1, ms($2), ms($3)}'
}

# ---- 1. Kannel baseline ----------------------------------------------------------------------
k=$work/kannel; mkdir -p "$k"
admin=$((base + 1)); box=$((base + 2)); smsc=$((base + 3)); sendsms=$((base + 4))
sed -e "s/@ADMIN@/$admin/" -e "s/@BOX@/$box/" -e "s/@SMSC@/$smsc/" -e "s/@SENDSMS@/$sendsms/" \
  bench/kannel/kannel.conf.in > "$k/kannel.conf"
(cd "$k" && exec bearerbox -v 2 kannel.conf > bearerbox.out 2>&1) & pids+=($!)
# bearerbox opens the fake SMSC port only once its start-up is done.
for _ in $(seq 200); do grep -q 'Start-up done' "$k/bearerbox.out" "$k/bearerbox.log" 2>/dev/null && break; sleep 0.05; done
(cd "$k" && exec /usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r "$smsc" -i 1 -m 0 '1 2 text x' > fakesmsc.out 2>&1) & pids+=($!)
(cd "$k" && exec smsbox -v 2 kannel.conf > smsbox.out 2>&1) & pids+=($!)
wait_port "$sendsms"
ksend="http://127.0.0.1:$sendsms/cgi-bin/sendsms?username=bench&password=bench&from=14155552671&to=12125552671&text=hello+world"
curl -s -o /dev/null -w '%{http_code}' "$ksend" | grep -q '^202$' || { echo "kannel sendsms is not answering 202" >&2; exit 1; }
sleep 1
before=$(grep -c 'Got message' "$k/fakesmsc.out" || true)
wrk -t1 -c "$in_flight" -d "${secs}s" --latency "$ksend" > "$k/wrk.out" 2>&1
sleep 3  # let bearerbox drain its queue to the fake SMSC
after=$(grep -c 'Got message' "$k/fakesmsc.out" || true)
read -r k_rate k_p50 k_p99 < <(wrk_summary "$k/wrk.out")
k_delivered=$((after - before))
stop_all
echo "kannel: $k_rate sendsms/s (p50 $k_p50 ms, p99 $k_p99 ms), fakesmsc received $k_delivered in the run" >&2

# ---- 1b. the relay leg alone: libcurl -> fake carrier, nothing else ----------------------------
# The floor every relay through libcurl to this fake carrier sits under on this machine: the
# curl tool's parallel mode (libcurl's multi interface, keep-alive, the same number of
# transfers in flight) POSTing the twilio adapter's request straight to tools/fake_carrier.
# No socket API, no checks, no Redis, no evidence.
f=$work/floor; mkdir -p "$f"
fport0=$((base + 9))
"$b/tools/fake_carrier" --listen "127.0.0.1:$fport0" --threads 1 --max-records 0 > "$f/fake.out" 2>&1 & pids+=($!)
wait_port "$fport0"
floor_n=$((secs * 20000))
floor_url="http://127.0.0.1:$fport0/2010-04-01/Accounts/AC0000000000000000000000000000fa4e/Messages.json"
t0=$(date +%s.%N)
curl -Z --parallel-max "$in_flight" -s -o /dev/null -w '%{http_code}\n' \
  -u AC0000000000000000000000000000fa4e:fake-twilio-auth-token \
  -d 'To=%2B12125552671&From=%2B14155552671&Body=hello+world' "$floor_url?n=[1-$floor_n]" > "$f/codes"
t1=$(date +%s.%N)
floor_ok=$(grep -c '^201$' "$f/codes" || true)
[ "$floor_ok" -eq "$floor_n" ] || { echo "relay leg: only $floor_ok of $floor_n requests got 201" >&2; exit 1; }
floor_rate=$(awk -v n="$floor_n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')
stop_all
echo "relay leg alone (curl --parallel -> fake carrier): $floor_rate requests/s" >&2

# ---- 2. stopgate: loadgen -> socket API send -> twilio adapter -> fake carrier ----------------
s=$work/stopgate; mkdir -p "$s"
rport=$((base + 5)); fport=$((base + 6)); api=$((base + 7)); http=$((base + 8))
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --daemonize no \
  --dir "$s" --logfile "$s/redis.log" & pids+=($!)
"$b/tools/fake_carrier" --listen "127.0.0.1:$fport" --threads 1 --max-records 0 > "$s/fake.out" 2>&1 & pids+=($!)
wait_port "$rport"; wait_port "$fport"
cat > "$s/gw.toml" <<TOML
[server]
data_dir = "$s/gw"
threads = 2
${BUSY_POLL_US:+busy_poll_us = $BUSY_POLL_US}
log_level = "warn"
[api]
listen = "127.0.0.1:$api"
[http]
listen = "127.0.0.1:$http"
public_url = "http://127.0.0.1:$http"
[redis]
url = "tcp://127.0.0.1:$rport"
[evidence]
hmac_key = "file:evidence.key"
[carriers.twilio]
type = "twilio"
base_url = "http://127.0.0.1:$fport"
account_sid = "AC0000000000000000000000000000fa4e"
auth_token = "fake-twilio-auth-token"
rate_per_second = 100000
max_in_flight = 10000
[senders.default]
numbers = ["+14155552671"]
route = ["twilio"]
[lists.internal]
kind = "internal"
TOML
"$b/gateway/stopgate" --config "$s/gw.toml" > "$s/gw.log" 2>&1 & pids+=($!)
wait_port "$api"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done
# Informational sends: every check runs (opt-outs, internal DNC, litigator, number rules)
# without needing a consent per number; evidence (send + carrier_result) is durable before
# each answer.
lg() { "$b/tools/stopgate_loadgen" --port "$api" --op send --purpose informational "$@"; }
lg -c "$conns" -d "$depth" --seconds 2 > /dev/null || true   # warm-up: connections, curl pool
lg -c "$conns" -d "$depth" --seconds "$secs" > "$s/max.out"
read -r s_rate s_p50 s_p99 < <(awk '/requests\/s/{for(i=1;i<=NF;i++){if($(i+1)=="requests/s,")r=$i; if($i=="p50")p=$(i+1); if($i=="p99")q=$(i+1)}} END{printf "%.0f %.2f %.2f\n", r, p/1000, q/1000}' "$s/max.out")
half=$((s_rate / 2))
lg -c "$conns" -d "$depth" --seconds "$secs" --rate "$half" > "$s/half.out"
read -r h_rate h_p50 h_p99 < <(awk '/requests\/s/{for(i=1;i<=NF;i++){if($(i+1)=="requests/s,")r=$i; if($i=="p50")p=$(i+1); if($i=="p99")q=$(i+1)}} END{printf "%.0f %.2f %.2f\n", r, p/1000, q/1000}' "$s/half.out")
received=$(curl -s "http://127.0.0.1:$fport/_fake/stats")
ev_records=$(cat "$s"/gw/evidence/*.jsonl 2>/dev/null | wc -l)
cat "$s/max.out" "$s/half.out" >&2
echo "fake carrier stats: $received; evidence lines: $ev_records" >&2

ratio=$(awk -v a="$s_rate" -v b="$k_rate" 'BEGIN{printf "%.2f", a/b}')
cat <<TABLE

| measure | stopgate (checks + durable evidence, twilio adapter -> fake carrier) | Kannel 1.4.5 sendsms -> fakesmsc (no checks) | ratio |
|---|---|---|---|
| max rate, $in_flight in flight ($conns connections x depth $depth) | $s_rate sends/s (p50 $s_p50 ms, p99 $s_p99 ms) | $k_rate sendsms/s (p50 $k_p50 ms, p99 $k_p99 ms) | $ratio |
| at half of stopgate's max ($half/s offered) | $h_rate sends/s, p50 $h_p50 ms, **p99 $h_p99 ms** | - | |
| the relay leg alone: libcurl (curl --parallel, $in_flight in flight) -> fake carrier, no gateway | $floor_rate requests/s | $k_rate sendsms/s | $(awk -v a="$floor_rate" -v b="$k_rate" 'BEGIN{printf "%.2f", a/b}') |
TABLE
