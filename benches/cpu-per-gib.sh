#!/usr/bin/env bash
# CPU time an echo server spends per echoed GiB of 1 MiB binary messages (issue 17), to
# read beside this machine's memcpy bandwidth (`cargo run --release -p benches --bin
# memcpy-bw`): CPU seconds (user + system, from /proc/PID/stat) over the measured window
# of `ws-load echo --size 1048576 --binary`, divided by the GiB echoed in it (each
# message is received and sent: 1 GiB echoed is 1 GiB in and 1 GiB out).
#
#   bash benches/cpu-per-gib.sh [ws|ws-tokio|fastwebsockets]
#
# Knobs: DURATION (s, default 10), WARMUP (s, default 2), CONNECTIONS (default 4),
# WS_SERVER_BIN (another ws-server build, for before/after). CPU time is less disturbed
# than wall-clock rates by other work on the machine, not immune to it (caches, memory
# bandwidth): compare builds in the same session.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
server="${1:-ws}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
connections="${CONNECTIONS:-4}"
bin="$root/target/release"
port=$((32000 - $$ % 1000))
while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
addr="127.0.0.1:$port"
case "$server" in
    ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0) ;;
    ws-tokio) cmd=("$bin/examples/tokio_echo_server" "$addr") ;;
    fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads 1) ;;
    *) echo "cpu-per-gib: unknown server $server" >&2; exit 2 ;;
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
"$bin/ws-load" echo "$addr" --connections "$connections" --in-flight 1 --size 1048576 --binary \
    --duration "$duration" --warmup "$warmup" > "$out" 2>&1 &
load=$!
sleep "$warmup"
before=$(ticks)
sleep "$duration"
after=$(ticks)
wait "$load"
rate=$(awk '/^RESULT/ { split($2, kv, "="); print kv[2] }' "$out")
rm -f "$out"
awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v r="$rate" -v d="$duration" -v s="$server" 'BEGIN {
    gib = r * d / 1024
    printf "%s: %.0f messages/s, %.2f GiB echoed, %.2f s of CPU: %.0f ms of CPU per echoed GiB\n",
        s, r, gib, t / hz, t / hz / gib * 1000
}'
