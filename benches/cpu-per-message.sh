#!/usr/bin/env bash
# CPU time an echo server spends per echoed message (user + system, from /proc/PID/stat,
# over the measured window of ws-load), and for 1 MiB messages per echoed GiB (issue 17:
# to read beside this machine's memcpy bandwidth, `cargo run --release -p benches --bin
# memcpy-bw`). Per-core throughput is its inverse when the server is the bottleneck; unlike
# a rate, it is not set by the load generator sharing the machine's cores, though other
# work still disturbs it (caches, memory bandwidth): compare builds in the same session,
# several runs each.
#
#   bash benches/cpu-per-message.sh SERVER WORKLOAD
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets.
# WORKLOAD: echo1 (64 B text, 50 connections, 1 in flight) | echo16 (16 in flight) |
#           echo1m (1 MiB binary, 4 connections, 1 in flight).
# Knobs: DURATION (s, default 10), WARMUP (s, default 2), WS_SERVER_BIN (another
# ws-server build, for before/after).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
server="${1:?usage: cpu-per-message.sh SERVER WORKLOAD}"
workload="${2:?usage: cpu-per-message.sh SERVER WORKLOAD}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
bin="$root/target/release"
case "$workload" in
    echo1) load_args=(--connections 50 --in-flight 1 --size 64) size=64 ;;
    echo16) load_args=(--connections 50 --in-flight 16 --size 64) size=64 ;;
    echo1m) load_args=(--connections 4 --in-flight 1 --size 1048576 --binary) size=1048576 ;;
    *) echo "cpu-per-message: unknown workload $workload" >&2; exit 2 ;;
esac
port=$((32000 - $$ % 1000))
while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
addr="127.0.0.1:$port"
case "$server" in
    ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0) ;;
    ws-tokio) cmd=("$bin/examples/tokio_echo_server" "$addr") ;;
    fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads 1) ;;
    tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads 1) ;;
    *) echo "cpu-per-message: unknown server $server" >&2; exit 2 ;;
esac
"${cmd[@]}" > /dev/null 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 200); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    sleep 0.05
done
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
out=$(mktemp)
"$bin/ws-load" echo "$addr" "${load_args[@]}" --duration "$duration" --warmup "$warmup" > "$out" 2>&1 &
load=$!
sleep "$warmup"
before=$(ticks)
sleep "$duration"
after=$(ticks)
wait "$load"
rate=$(awk '/^RESULT/ { split($2, kv, "="); print kv[2] }' "$out")
rm -f "$out"
awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v r="$rate" -v d="$duration" \
    -v s="$server" -v w="$workload" -v size="$size" 'BEGIN {
    m = r * d; cpu = t / hz
    printf "%s %s: %.0f messages/s, %.2f s of CPU in %d s: %.2f us of CPU per message", s, w, r, cpu, d, cpu / m * 1e6
    if (size >= 1048576) printf ", %.0f ms per echoed GiB", cpu / (m * size / 2^30) * 1000
    printf "\n"
}'
