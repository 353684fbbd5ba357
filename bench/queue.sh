#!/usr/bin/env bash
# Queue benchmark (issue 16, item 8). One script, one machine, same-run ratios:
#   1. acceptance: stopgate's queued `send` (check + durable `queued` evidence + enqueue in
#      Redis, socket API, tools/bin/stopgate_loadgen) against Kannel 1.4.5's `sendsms` (wrk),
#      CONNECTIONS requests in flight each (one per connection). Both relay to the fake carrier
#      meanwhile, as in real use (stopgate's queue workers, Kannel's HTTP SMSC).
#   1b. acceptance with nothing draining: stopgate's queued sends for a later send_at, Kannel's
#      sendsms while the fake answers its HTTP SMSC after 500 ms (the fill of 2's backlog).
#   2. relay, like for like: messages/s into tools/fake_carrier's generic HTTP endpoint from a
#      backlog, with no client load: Kannel's generic HTTP SMSC (smsc = http, system-type =
#      generic, a GET per message; bench/kannel/kannel-http.conf.in) draining bearerbox's queue
#      (filled by sendsms while the fake answered after 500 ms, then answering at once), against
#      stopgate's queue (carrier type "http", a JSON POST per message) draining RELAY_N
#      messages queued with one send_at, from that instant.
#   3. real-world latency: the fake answers after 150 ms, the carrier's limit is 1,000/s
#      (rate_per_second = 1000), 50 client connections: the rate the fake receives from
#      queued sends (over the load window, after 3 s) as a fraction of 1,000/s, and from sync
#      sends beside it. 3b: queued again with LAT_THREADS_ALSO gateway threads.
#   4. a campaign of CAMPAIGN messages (default 100,000) to distinct numbers, 30 % of them in
#      New York area codes whose calling window ([policy.windows] NY = "HH:MM-24:00", set at
#      gateway start) opens 30-90 s after the campaign is queued (the rest always open:
#      federal = "00:00-24:00"): the time from the window's opening until every held message
#      is released and sent (ZCARD {sg:q}:due = 0, the fake's count = CAMPAIGN), and the rate.
# Prints the load average first and a markdown table last (stderr has the details).
#
#   bench/queue.sh [SECONDS] [CONNECTIONS] [CAMPAIGN]   (default 10 s, 50, 100000)
#
# Environment: BUILD_DIR (default build) holds the binaries; NO_BUILD=1 uses them as they are;
# RELAY_N (default 30000): stopgate's relay backlog (Kannel's is what sendsms takes in
# RELAY_N / its rate (1) + 1 seconds, a little more); KANNEL_PENDING (default 50): the HTTP
# SMSC's max-pending-submits (Kannel's default is 10); LATENCY_SECONDS (default 15): the load
# window of (3); LAT_THREADS_ALSO (default 3, "" = skip): (3) again, queued, with that many
# gateway threads (each thread may open as many connections to a carrier host as the largest
# carrier max_in_flight);
# KEEP=1 keeps the work directory; BENCH_DATA is where it is made (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
campaign_n=${3:-100000}
relay_n=${RELAY_N:-30000}
pending=${KANNEL_PENDING:-50}
lat_secs=${LATENCY_SECONDS:-15}
lat_threads=${LAT_THREADS_ALSO-3}
root=$PWD
missing=()
for p in kannel kannel-extras wrk curl redis-server python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
tools/deps
b=$(cd "$root" && realpath -m "${BUILD_DIR:-build}")
if [ -z "${NO_BUILD:-}" ]; then
  [ -f "$b/build.ninja" ] || cmake -S . -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$b" --target stopgate stopgate_loadgen fake_carrier -j"${STOPGATE_JOBS:-2}" >/dev/null
fi
work=$(mktemp -d "${BENCH_DATA:-/tmp}/queue-bench-XXXXXX")
pids=()
stop_all() {  # stops every process started so far (SIGKILL after 10 s)
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[$(date +%T) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
base=$((20000 + RANDOM % 20000))   # ports base+1 .. base+12 on 127.0.0.1
wait_port() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
now() { date +%s.%N; }
calc() { awk "BEGIN{printf \"$1\", $2}"; }
# CPU seconds (user + system) a process has used so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The fake carrier's accepted count (generic HTTP endpoint).
fake_accepted() {
  curl -s "http://127.0.0.1:$1/_fake/stats" | grep -o '"http":{[^}]*}' | grep -o '"accepted":[0-9]*' | cut -d: -f2 || true
}
# Polls the fake on port $1 until its count reaches $2 (or stops moving for $3 s); sets
# done_at (the first time it was at its final value) and done_count.
watch_until() {
  local port=$1 target=$2 idle=$3 last=-1 last_change t c
  last_change=$(now)
  while :; do
    t=$(now); c=$(fake_accepted "$port"); c=${c:-0}
    if [ "$c" != "$last" ]; then last=$c; last_change=$t; fi
    [ "$c" -ge "$target" ] && break
    awk -v a="$t" -v b="$last_change" -v i="$idle" 'BEGIN{exit !(a - b > i)}' && break
    sleep 0.1
  done
  done_at=$last_change; done_count=$last
}
wrk_summary() {  # wrk output -> "requests/s p50_ms p99_ms total non2xx"
  awk '/Requests\/sec/{r=$2} /^ +50%/{p50=$2} /^ +99%/{p99=$2} / requests in /{n=$1} /Non-2xx/{e=$NF} END{print r, p50, p99, n, e+0}' "$1" |
    awk 'function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
         {printf "%.0f %.2f %.2f %d %d\n", $1, ms($2), ms($3), $4, $5}'
}
lg_summary() {  # stopgate_loadgen output -> "requests/s p50_ms p99_ms requests errors"
  awk '/requests\/s/{for(i=1;i<=NF;i++){if($(i+1)=="requests/s,")r=$i; if($i=="p50")p=$(i+1); if($i=="p99")q=$(i+1)}; n=$2; e=substr($3,2)} END{printf "%.0f %.2f %.2f %d %d\n", r, p/1000, q/1000, n, e}' "$1"
}

echo "machine: $(nproc) cores; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
log "work directory $work"

# ---- Kannel: sendsms -> bearerbox -> generic HTTP SMSC -> fake carrier ------------------------
k=$work/kannel; mkdir -p "$k"
admin=$((base + 1)); box=$((base + 2)); mo=$((base + 3)); sendsms=$((base + 4)); kfake=$((base + 5))
"$b/tools/fake_carrier" --listen "127.0.0.1:$kfake" --threads 1 --max-records 0 > "$k/fake.out" 2>&1 & pids+=($!)
kfake_pid=$!
wait_port "$kfake"
sed -e "s/@ADMIN@/$admin/" -e "s/@BOX@/$box/" -e "s/@MO@/$mo/" -e "s/@SENDSMS@/$sendsms/" \
  -e "s/@FAKE@/$kfake/" -e "s/@PENDING@/$pending/" bench/kannel/kannel-http.conf.in > "$k/kannel.conf"
(cd "$k" && exec bearerbox -v 2 kannel.conf > bearerbox.out 2>&1) & pids+=($!)
bb_pid=$!
for _ in $(seq 200); do grep -q 'Start-up done' "$k/bearerbox.out" "$k/bearerbox.log" 2>/dev/null && break; sleep 0.05; done
kill -0 "$bb_pid" 2>/dev/null || { echo "bearerbox did not start:" >&2; tail -5 "$k/bearerbox.out" >&2; exit 1; }
(cd "$k" && exec smsbox -v 2 kannel.conf > smsbox.out 2>&1) & pids+=($!)
sb_pid=$!
wait_port "$sendsms"
ksend="http://127.0.0.1:$sendsms/cgi-bin/sendsms?username=bench&password=bench&from=14155552671&to=12125552671&text=hello+world"
curl -s -o /dev/null -w '%{http_code}' "$ksend" | grep -q '^202$' || { echo "kannel sendsms is not answering 202" >&2; exit 1; }
watch_until "$kfake" 1 5
[ "$done_count" -ge 1 ] || { echo "kannel's HTTP SMSC delivered nothing to the fake carrier (see $k)" >&2; KEEP=1; exit 1; }
sleep 1
k0=$(fake_accepted "$kfake")
kcpu0="$(cpu $bb_pid) $(cpu $sb_pid) $(cpu $kfake_pid)"
t0=$(now)
wrk -t1 -c "$conns" -d "${secs}s" --latency "$ksend" > "$k/wrk.out" 2>&1
t1=$(now); k1=$(fake_accepted "$kfake")
kcpu1="$(cpu $bb_pid) $(cpu $sb_pid) $(cpu $kfake_pid)"
read -r k_rate k_p50 k_p99 k_total k_non2xx < <(wrk_summary "$k/wrk.out")
k_during=$(calc %.0f "($k1 - $k0) / ($t1 - $t0)")
log "kannel sendsms: $k_rate/s (p50 $k_p50 ms, p99 $k_p99 ms), $k_total requests ($k_non2xx not 2xx); fake got $((k1 - k0)) meanwhile ($k_during/s)"
log "kannel CPU s during the load (bearerbox smsbox fake): $(awk -v a="$kcpu0" -v b="$kcpu1" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.1f %.1f %.1f", y[1]-x[1], y[2]-x[2], y[3]-x[3]}')"
watch_until "$kfake" $((k0 + k_total - k_non2xx)) 5
log "kannel: backlog $((k0 + k_total - k_non2xx - k1)) after the load, all delivered $(calc %.1f "$done_at - $t1") s later (fake $done_count of $((k0 + k_total - k_non2xx)))"
# Relay leg: a backlog in bearerbox's queue, built while the fake answers after 500 ms (so the
# SMSC's max-pending-submits requests drain ~100/s), then drained at full speed, no client load.
kf0=$(fake_accepted "$kfake")
curl -s -XPOST "http://127.0.0.1:$kfake/_fake/faults" -d '{"kind":"latency","delay_ms":500}' >/dev/null
fill_s=$(calc %.0f "$relay_n / ($k_rate > 0 ? $k_rate : 1000) + 1")
kcpu0="$(cpu $bb_pid) $(cpu $sb_pid)"
wrk -t1 -c "$conns" -d "${fill_s}s" --latency "$ksend" > "$k/wrk-fill.out" 2>&1
read -r kf_rate kf_p50 kf_p99 kf_total kf_non2xx < <(wrk_summary "$k/wrk-fill.out")
kcpu1="$(cpu $bb_pid) $(cpu $sb_pid)"
kf_cpu=$(awk -v a="$kcpu0" -v b="$kcpu1" -v n="$kf_total" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.0f %.0f", (y[1]-x[1]) * 1e6 / (n > 0 ? n : 1), (y[2]-x[2]) * 1e6 / (n > 0 ? n : 1)}')
log "kannel sendsms while its SMSC is slowed (nothing much draining): $kf_rate/s (p50 $kf_p50 ms)"
curl -s -XDELETE "http://127.0.0.1:$kfake/_fake/faults" >/dev/null
sleep 0.6   # requests already delayed finish
t1=$(now); k1=$(fake_accepted "$kfake")
kcpu0="$(cpu $bb_pid) $(cpu $sb_pid) $(cpu $kfake_pid)"
watch_until "$kfake" $((kf0 + kf_total - kf_non2xx)) 5
kcpu1="$(cpu $bb_pid) $(cpu $sb_pid) $(cpu $kfake_pid)"
k_drained=$((done_count - k1))
k_relay=$(calc %.0f "$k_drained / ($done_at - $t1)")
k_relay_cpu=$(awk -v a="$kcpu0" -v b="$kcpu1" -v n="$k_drained" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.0f", (y[1]-x[1]) * 1e6 / (n > 0 ? n : 1)}')
log "kannel relay: $((kf_total - kf_non2xx)) queued by sendsms; $k_drained drained in $(calc %.2f "$done_at - $t1") s: $k_relay/s; bearerbox $k_relay_cpu us CPU per message (fake total $done_count of $((kf0 + kf_total - kf_non2xx)))"
curl -s "http://127.0.0.1:$admin/status.txt?password=bench" > "$k/status.txt" || true
stop_all

# ---- stopgate -------------------------------------------------------------------------------
s=$work/stopgate; mkdir -p "$s"
rport=$((base + 6)); sfake=$((base + 7)); api=$((base + 8)); http=$((base + 9))
# Redis as a durable queue is run: append-only file, fsync every second (Redis' own advice).
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly yes --appendfsync everysec \
  --daemonize no --dir "$s" --logfile "$s/redis.log" & pids+=($!)
redis_pid=$!
"$b/tools/fake_carrier" --listen "127.0.0.1:$sfake" --threads 1 --max-records 0 > "$s/fake.out" 2>&1 & pids+=($!)
sfake_pid=$!
wait_port "$rport"; wait_port "$sfake"
rcli() { redis-cli -p "$rport" "$@"; }
gw_pid=""
# start_gateway NAME RATE_PER_SECOND [EXTRA_TOML] [THREADS]: a fresh gateway (data dir NAME)
# on a flushed Redis.
start_gateway() {
  local name=$1 rate=$2 extra=${3:-} threads=${4:-2}
  rcli FLUSHALL >/dev/null
  cat > "$s/$name.toml" <<TOML
[server]
data_dir = "$s/$name"
threads = $threads
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
[queue]
# defaults: max_in_flight = 256 per thread, poll_ms = 50
[carriers.fake]
type = "http"
url = "http://127.0.0.1:$sfake/send"
rate_per_second = $rate
max_in_flight = 1000
[carriers.fake.headers]
Authorization = "Bearer fake-http-token"
[senders.default]
numbers = ["+14155552671"]
route = ["fake"]
[lists.internal]
kind = "internal"
$extra
TOML
  chmod 600 "$s/$name.toml"
  "$b/gateway/stopgate" --config "$s/$name.toml" > "$s/$name.log" 2>&1 & pids+=($!)
  gw_pid=$!
  wait_port "$api"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done
}
stop_gateway() {
  kill "$gw_pid" 2>/dev/null || true
  wait "$gw_pid" 2>/dev/null || true
  local keep=()
  for p in "${pids[@]}"; do [ "$p" != "$gw_pid" ] && keep+=("$p"); done
  pids=("${keep[@]}")
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$api") 2>/dev/null || break; sleep 0.05; done
}
# Informational sends: every check runs (opt-outs, internal DNC, litigator, number rules)
# without a consent per number; the `queued` record is durable before each answer.
lg() { "$b/tools/stopgate_loadgen" --port "$api" --op send --purpose informational "$@"; }
due() { rcli ZCARD '{sg:q}:due'; }
wait_queue_empty() {  # up to $1 s
  for _ in $(seq $(($1 * 10))); do [ "$(due)" = 0 ] && return 0; sleep 0.1; done
  return 1
}

# ---- 1. acceptance (and 2. relay) -------------------------------------------------------------
start_gateway acc 100000
lg --mode queue -c "$conns" -d 1 --seconds 2 > /dev/null || true   # warm-up: connections, curl pool
wait_queue_empty 60 || log "warm-up backlog not drained"
a0=$(fake_accepted "$sfake")
scpu0="$(cpu $gw_pid) $(cpu $redis_pid) $(cpu $sfake_pid)"
t0=$(now)
lg --mode queue -c "$conns" -d 1 --seconds "$secs" > "$s/acc.out" || true
t1=$(now); a1=$(fake_accepted "$sfake"); d1=$(due)
scpu1="$(cpu $gw_pid) $(cpu $redis_pid) $(cpu $sfake_pid)"
read -r s_rate s_p50 s_p99 s_total s_errors < <(lg_summary "$s/acc.out")
s_during=$(calc %.0f "($a1 - $a0) / ($t1 - $t0)")
log "stopgate queued send: $s_rate/s (p50 $s_p50 ms, p99 $s_p99 ms), $s_total requests ($s_errors not ok); fake got $((a1 - a0)) meanwhile ($s_during/s); queue depth after: $d1"
log "stopgate CPU s during the load (gateway redis fake): $(awk -v a="$scpu0" -v b="$scpu1" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.1f %.1f %.1f", y[1]-x[1], y[2]-x[2], y[3]-x[3]}')"
sed -n 1,3p "$s/acc.out" >&2
watch_until "$sfake" $((a0 + s_total - s_errors)) 5
s_backlog_drain=$(calc %.1f "$done_at - $t1")
log "stopgate backlog after the load: $d1, all delivered ${s_backlog_drain} s later (fake $done_count of $((a0 + s_total - s_errors)))"
rcli INFO commandstats > "$s/commandstats-acc.txt"

# Relay leg: RELAY_N messages queued with one send_at, drained from that instant.
wait_queue_empty 120 || log "queue not empty before the relay leg: $(due)"
r0=$(fake_accepted "$sfake")
enqueue_s=$(calc %.0f "$relay_n / ($s_rate > 0 ? $s_rate : 1000) * 1.5 + 4")
at=$(( $(date +%s) + enqueue_s ))
at_text=$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)
scpu0="$(cpu $gw_pid) $(cpu $redis_pid)"
lg --mode queue --send-at "$at_text" --count "$relay_n" -c "$conns" -d 1 --seconds 600 > "$s/relay-enqueue.out" || true
tq=$(now)
scpu1="$(cpu $gw_pid) $(cpu $redis_pid)"
h_cpu=$(awk -v a="$scpu0" -v b="$scpu1" -v n="$relay_n" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.0f %.0f", (y[1]-x[1]) * 1e6 / n, (y[2]-x[2]) * 1e6 / n}')
log "acceptance CPU per message (nothing draining): gateway ${h_cpu% *} us, redis ${h_cpu#* } us"
read -r h_rate h_p50 h_p99 _ _ < <(lg_summary "$s/relay-enqueue.out")
log "relay leg: $relay_n queued for $at_text at $h_rate/s (p50 $h_p50 ms; nothing draining) ($(calc %.1f "$at - $tq") s to wait): $(tail -1 "$s/relay-enqueue.out")"
[ "$(calc %.0f "$at - $tq")" -ge 1 ] || log "WARNING: send_at passed before the messages were all queued"
[ "$(fake_accepted "$sfake")" = "$r0" ] || log "WARNING: the fake got messages before send_at"
rcli CONFIG RESETSTAT >/dev/null
while [ "$(calc %.0f "($at - 0.05 - $(now)) * 10")" -gt 0 ]; do sleep 0.05; done
scpu0="$(cpu $gw_pid) $(cpu $redis_pid) $(cpu $sfake_pid)"
watch_until "$sfake" $((r0 + relay_n)) 5
scpu1="$(cpu $gw_pid) $(cpu $redis_pid) $(cpu $sfake_pid)"
s_relayed=$((done_count - r0))
s_relay=$(calc %.0f "$s_relayed / ($done_at - $at)")
log "stopgate relay: $s_relayed of $relay_n delivered in $(calc %.2f "$done_at - $at") s from send_at: $s_relay/s"
s_relay_cpu=$(awk -v a="$scpu0" -v b="$scpu1" -v n="$s_relayed" 'BEGIN{split(a,x," ");split(b,y," ");printf "%.0f %.0f", (y[1]-x[1]) * 1e6 / (n > 0 ? n : 1), (y[2]-x[2]) * 1e6 / (n > 0 ? n : 1)}')
log "stopgate relay CPU per message: gateway ${s_relay_cpu% *} us, redis ${s_relay_cpu#* } us"
rcli INFO commandstats > "$s/commandstats-relay.txt"
log "redis commands per relayed message (calls, usec in redis):"
awk -F'[:,=]' -v n="$s_relayed" '/^cmdstat_/ && $3 / n >= 0.5 {printf "  %s %.2f/msg %.1f us/msg\n", substr($1, 9), $3 / n, $5 / n}' "$s/commandstats-relay.txt" >&2
stop_gateway

# ---- 3. real-world latency: 150 ms carrier, 1,000/s limit, 50 connections ---------------------
curl -s -XPOST "http://127.0.0.1:$sfake/_fake/faults" -d '{"kind":"latency","delay_ms":150}' >/dev/null
start_gateway lat 1000
# sync first (it leaves no backlog), then queued
l0=$(fake_accepted "$sfake"); t0=$(now)
lg --mode sync -c "$conns" -d 1 --seconds "$secs" > "$s/lat-sync.out" || true
t1=$(now); l1=$(fake_accepted "$sfake")
sync_rate=$(calc %.0f "($l1 - $l0) / ($t1 - $t0)")
read -r ls_rate ls_p50 ls_p99 _ _ < <(lg_summary "$s/lat-sync.out")
log "latency, sync: $sync_rate/s into the fake (answers $ls_rate/s, p50 $ls_p50 ms)"
lg --mode queue -c "$conns" -d 1 --seconds "$lat_secs" > "$s/lat-queue.out" & lgp=$!
sleep 3
m0=$(fake_accepted "$sfake"); u0=$(now)
wait "$lgp" || true
m1=$(fake_accepted "$sfake"); u1=$(now)
q_rate=$(calc %.0f "($m1 - $m0) / ($u1 - $u0)")
q_frac=$(calc %.3f "$q_rate / 1000")
read -r lq_rate lq_p50 lq_p99 lq_total _ < <(lg_summary "$s/lat-queue.out")
log "latency, queued: $q_rate/s into the fake from 3 s to $lat_secs s (= $q_frac of 1,000/s); accepted $lq_rate/s (p50 $lq_p50 ms), backlog $(due); connections to the fake: $(ss -Htn state established "( dport = :$sfake )" | wc -l)"
stop_gateway
# The same queued run with a third gateway thread: each thread's libcurl multi handle opens at
# most 64 connections to one host (carriers/http/message.hpp), so 2 threads cap a 150 ms carrier
# at 128 / 0.15 s = 853/s.
q3_rate=-; q3_frac=-
if [ -n "$lat_threads" ]; then
  start_gateway lat3 1000 "" "$lat_threads"
  lg --mode queue -c "$conns" -d 1 --seconds "$lat_secs" > "$s/lat-queue3.out" & lgp=$!
  sleep 3
  m0=$(fake_accepted "$sfake"); u0=$(now)
  wait "$lgp" || true
  m1=$(fake_accepted "$sfake"); u1=$(now)
  q3_rate=$(calc %.0f "($m1 - $m0) / ($u1 - $u0)")
  q3_frac=$(calc %.3f "$q3_rate / 1000")
  log "latency, queued, $lat_threads gateway threads: $q3_rate/s (= $q3_frac of 1,000/s); connections to the fake: $(ss -Htn state established "( dport = :$sfake )" | wc -l)"
  stop_gateway
fi
curl -s -XDELETE "http://127.0.0.1:$sfake/_fake/faults" >/dev/null

# ---- 4. campaign: CAMPAIGN distinct numbers, 30 % held until NY's window opens ----------------
nums=$s/campaign-numbers.txt
python3 - "$campaign_n" > "$nums" <<'PY'
import sys
n = int(sys.argv[1])
ny = [212, 917, 646, 718]          # New York: held until the window opens
rest = [312, 415, 305, 512, 617, 702, 808, 213, 713, 469, 602, 303, 206, 404]
def exchanges():
    for x in range(201, 1000):
        if x % 100 == 11 or x in (555, 950, 958, 959, 976): continue
        yield x
ex = list(exchanges())
counters = {}
for i in range(n):
    group = ny if i % 10 < 3 else rest
    k = counters.get(id(group), 0); counters[id(group)] = k + 1
    npa = group[k % len(group)]
    j = k // len(group)
    print("+1%03d%03d%04d" % (npa, ex[j % len(ex)], (j // len(ex)) % 10000))
PY
held_expected=$(grep -cE '^\+1(212|917|646|718)' "$nums")
# The window opens on a minute boundary 30-90 s after the campaign should be queued.
est=$(calc %.0f "$campaign_n / ($s_rate > 0 ? $s_rate : 1000) * 1.4 + 10")
open=$(( ( $(date +%s) + est + 30 + 59 ) / 60 * 60 ))
open_local=$(TZ=America/New_York date -d "@$open" +%H:%M)
now_local=$(TZ=America/New_York date +%H:%M)
if [[ "$open_local" < "$now_local" ]] || [ "$open_local" = "00:00" ]; then
  echo "New York's midnight falls within the campaign: run again after 00:10 New York time" >&2
  exit 1
fi
start_gateway camp 100000 "$(cat <<TOML
[policy.informational]
apply_calling_window = true
apply_restricted_days = false
apply_frequency_caps = false
[policy.windows]
federal = "00:00-24:00"
NY = "$open_local-24:00"
TOML
)"
log "campaign: $campaign_n numbers, $held_expected in NY; NY window opens at $open_local New York time ($(date -u -d "@$open" +%T) UTC)"
camp0=$(fake_accepted "$sfake")
tq0=$(now)
lg --mode queue --numbers "$nums" --count "$campaign_n" --campaign bench -c "$conns" -d 1 --seconds 3600 > "$s/campaign.out" || true
tq1=$(now)
c_queued=$(awk '/^queued/{print $2}' "$s/campaign.out"); c_held=$(awk '/^queued/{print $4}' "$s/campaign.out" | tr -d ')')
log "campaign queued in $(calc %.1f "$tq1 - $tq0") s: $(head -1 "$s/campaign.out"); $(tail -1 "$s/campaign.out")"
[ "$(calc %.0f "$open - $tq1")" -ge 5 ] || log "WARNING: the window opened (or nearly) before the campaign was queued"
# Until the window opens: the other 70 % drain.
while [ "$(calc %.0f "($open - 0.3 - $(now)) * 10")" -gt 0 ]; do sleep 0.1; done
at_open_due=$(due); at_open_sent=$(fake_accepted "$sfake")
log "at the opening: queue $at_open_due, sent $((at_open_sent - camp0)) of the campaign"
first=""; samples=$s/campaign-samples.txt; : > "$samples"
while :; do
  t=$(now); d=$(due); c=$(fake_accepted "$sfake"); c=${c:-0}
  echo "$t $d $c" >> "$samples"
  if [ -z "$first" ] && [ "$c" -gt "$at_open_sent" ]; then first=$t; fi
  [ "$d" = 0 ] && [ "$c" -ge $((camp0 + campaign_n)) ] && break
  awk -v a="$t" -v b="$open" 'BEGIN{exit !(a - b > 600)}' && { log "WARNING: not all released after 600 s"; break; }
  sleep 0.1
done
all_at=$t
c_released=$((c - at_open_sent))
c_first=$(calc %.2f "$first - $open")
c_all=$(calc %.2f "$all_at - $open")
c_rate=$(calc %.0f "$c_released / ($all_at - $open)")
c_rate_active=$(calc %.0f "$c_released / ($all_at - $first)")
log "campaign: window opened at $open; first release +$c_first s, all released and sent +$c_all s; $c_released released: $c_rate/s from the opening ($c_rate_active/s from the first release)"
stop_gateway

row3b=""
[ -n "$lat_threads" ] && row3b="| 3b. the same, queued, gateway threads = $lat_threads ($lat_threads x 64 carrier connections) | $q3_rate/s = $q3_frac of the limit | - | $q3_frac |
"
acc_ratio=$(calc %.2f "$s_rate / $k_rate")
relay_ratio=$(calc %.2f "$s_relay / $k_relay")
cat <<TABLE

| measure | stopgate | Kannel 1.4.5 | ratio (target) |
|---|---|---|---|
| 1. acceptance, $conns in flight ($conns connections), ${secs} s; both relaying to the fake meanwhile | queued send (check + durable \`queued\` record + enqueue): **$s_rate/s** (p50 $s_p50 ms, p99 $s_p99 ms); $s_during/s delivered meanwhile | sendsms: **$k_rate/s** (p50 $k_p50 ms, p99 $k_p99 ms); $k_during/s delivered meanwhile | **$acc_ratio** (>= 2) |
| 1b. acceptance with nothing draining (messages queued for a later send_at) | **$h_rate/s** (p50 $h_p50 ms, p99 $h_p99 ms); CPU per message: gateway ${h_cpu% *} us + Redis ${h_cpu#* } us | sendsms while the fake holds the SMSC's requests 500 ms: **$kf_rate/s** (p50 $kf_p50 ms, p99 $kf_p99 ms); CPU per message: bearerbox ${kf_cpu% *} us + smsbox ${kf_cpu#* } us | $(calc %.2f "$h_rate / $kf_rate") |
| 2. relay, a backlog into the fake carrier's generic HTTP endpoint, no client load | queue -> http carrier (JSON POST): **$s_relay/s** ($s_relayed messages queued for one send_at); CPU per message: gateway ${s_relay_cpu% *} us + Redis ${s_relay_cpu#* } us | bearerbox -> generic HTTP SMSC (GET), max-pending-submits $pending: **$k_relay/s** ($k_drained messages); bearerbox $k_relay_cpu us CPU per message | **$relay_ratio** (>= 1.5) |
| 3. carrier answers after 150 ms, limit 1,000/s, $conns connections, gateway threads = 2 | queued: **$q_rate/s = $q_frac of the limit** (accepted $lq_rate/s meanwhile); sync: $sync_rate/s | - | $q_frac (>= 0.95) |
$row3b| 4. campaign of $campaign_n, $held_expected (30 %) held for quiet hours ($c_held answered held) | window opening -> first release +$c_first s, all released and sent **+$c_all s**; $c_released released at **$c_rate/s** ($c_rate_active/s from the first release) | - | |
TABLE
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
