# Sourced by the bench scripts (run from the repository root).
#
#   bench_binaries TARGET...   sets $b to the build tree whose binaries the bench runs:
#                              BENCH_BIN=DIR when given (another tree, e.g. an older commit's
#                              build for a same-run before/after; nothing is built), else
#                              build/ with only TARGETs built (after tools/deps).
bench_binaries() {
  if [ -n "${BENCH_BIN:-}" ]; then
    b=$(cd "$BENCH_BIN" && pwd)
  else
    tools/deps
    [ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build --target "$@" -j"${STOPGATE_JOBS:-2}" >/dev/null
    b=$PWD/build
  fi
}

#   bench_redis DIR PORT [ARGS]  starts a redis-server on loopback (no persistence unless ARGS
#                                say so; its files under DIR/PORT), appends its pid to the
#                                caller's `pids` array, and waits until it answers PING.
#   bench_cluster DIR PORT       three such servers on PORT..PORT+2, joined into a cluster of
#                                3 primaries without replicas (redis-cli --cluster create);
#                                sets cluster_url ("cluster://127.0.0.1:PORT,...").
bench_redis() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir/$port"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir/$port" \
    --logfile "$dir/$port/redis.log" "$@" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done
}
bench_cluster() {
  local dir=$1 first=$2 nodes=() i
  for i in 0 1 2; do
    bench_redis "$dir" $((first + i)) --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 3000
    nodes+=("127.0.0.1:$((first + i))")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
  for i in 0 1 2; do
    for _ in $(seq 200); do
      redis-cli -p $((first + i)) CLUSTER INFO | grep -q cluster_state:ok && break
      sleep 0.05
    done
  done
  cluster_url=cluster://$(IFS=,; echo "${nodes[*]}")
}
