#!/usr/bin/env bash
# The many-core run behind benches/README.md's "16 cores" tables (issues 14 and 17): on a
# machine with at least 16 cores, every server pinned to one core and then to four, with
# ws-load on eight or ten other cores so that the generator is never the limit.
#
#   bash benches/run-many-cores.sh                         # builds, then runs (about 5 min)
#   BENCH_BIN=bin OUT_DIR=/tmp/out bash benches/run-many-cores.sh   # prebuilt binaries
#
# BENCH_BIN: a folder laid out as target/release (ws-server, ws-load, the anchors' echo
# servers, examples/tokio_echo_server): nothing is built, for a machine without a
# toolchain. OUT_DIR (default /tmp/run-many-cores): where the tables and a description of
# the machine are written, one file per run, as each run ends (a run cut short keeps the
# tables already written). ROUNDS and DURATION: run-load.sh's, for the one-core tables
# (default 2 rounds of 2 s; the four-core table takes 1 round).
#
# Cores: the servers get core 1 (one core) or 1-4 (four), never core 0, where the
# machine's interrupts mostly land; ws-load gets 4-11 (8 threads) or 6-15 (10 threads).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT_DIR:-/tmp/run-many-cores}"
mkdir -p "$out"

if [ "$(nproc)" -lt 16 ]; then
    echo "run-many-cores: this machine has $(nproc) cores; the run needs 16" >&2
    exit 2
fi
if [ -z "${BENCH_BIN:-}" ]; then
    cargo build --release --quiet -p benches --bin memcpy-bw
fi
bin="${BENCH_BIN:-$root/target/release}"

{
    echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
    echo "kernel: $(uname -r); memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "memcpy: $("$bin/memcpy-bw" 2>&1 | tail -1)"
} | tee "$out/machine.txt"

one_core=(env SERVER_CPUS=1 LOAD_CPUS=4-11 LOAD_THREADS=8 ROUNDS="${ROUNDS:-2}" DURATION="${DURATION:-2}" WARMUP=0.5)
four_cores=(env SERVER_CPUS=1-4 LOAD_CPUS=6-15 LOAD_THREADS=10 ROUNDS=1 DURATION="${DURATION:-2}" WARMUP=0.5)

"${one_core[@]}" SERVERS="ws ws-tokio tungstenite fastwebsockets tokio-websockets" \
    bash benches/run-load.sh echo1 load echo16 echo1m connect 2>&1 | tee "$out/one-core.md"
"${one_core[@]}" SERVERS="ws ws-tokio fastwebsockets tokio-websockets" IDLE_COUNTS="1000 10000 20000" \
    bash benches/run-load.sh idle 2>&1 | tee "$out/idle.md"
"${four_cores[@]}" SERVERS="ws ws-tokio fastwebsockets tokio-websockets" \
    bash benches/run-load.sh --server-threads 4 echo1 load echo16 echo1m connect 2>&1 | tee "$out/four-cores.md"
SERVER_CPU=1 LOAD_CPU=4 ROUNDS=1 DURATION=2 WARMUP=0.5 \
    bash benches/cpu-per.sh ws,ws-tokio,fastwebsockets echo1m 2>&1 | tee "$out/cpu-per-gib.md"
