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
