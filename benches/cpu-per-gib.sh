#!/usr/bin/env bash
# CPU time a server spends per GiB echoed (1 MiB binary messages, 4 connections, one in
# flight each) and per message: its user and system time from /proc/PID/stat over the
# measured window, over the bytes and messages echoed in it. On a shared machine this moves much less than messages per
# second do (a server waiting for the CPU is not charged for the wait), and it compares
# with the machine's memcpy bandwidth (benches/memcpy-bandwidth.c).
#
#   bash benches/cpu-per-gib.sh SERVER [SIZE]
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets. SIZE: bytes per message
# (default 1048576). Knobs: CONNECTIONS (default 4), DURATION (s, default 5), WARMUP
# (s, default 2), SERVER_CPU
# (default 0), LOAD_CPU (default 1), WS_TOKIO_BIN and WS_SERVER_BIN (other builds).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
server="${1:?usage: cpu-per-gib.sh SERVER [SIZE]}"
size="${2:-1048576}"
duration="${DURATION:-5}"
warmup="${WARMUP:-2}"
bin="$root/target/release"
port=$((32000 - 1 - $$ % 1000))
while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port - 1)); done
addr="127.0.0.1:$port"
case "$server" in
    ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0) ;;
    ws-tokio) cmd=("${WS_TOKIO_BIN:-$bin/examples/tokio_echo_server}" "$addr") ;;
    fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads 1) ;;
    tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads 1) ;;
    *) echo "cpu-per-gib: unknown server $server" >&2; exit 2 ;;
esac
taskset -c "${SERVER_CPU:-0}" "${cmd[@]}" > /dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true' EXIT
for _ in $(seq 200); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    sleep 0.05
done
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
faults() { awk '{ print $10 }' "/proc/$pid/stat"; }
out=$(mktemp)
"$bin/ws-load" echo "$addr" --connections "${CONNECTIONS:-4}" --in-flight 1 --size "$size" --binary \
    --duration "$duration" --warmup "$warmup" --cpus "${LOAD_CPU:-1}" > "$out" 2>&1 &
load=$!
sleep "$warmup"
before=$(ticks)
faults_before=$(faults)
sleep "$duration"
after=$(ticks)
faults_after=$(faults)
wait "$load" || { echo "cpu-per-gib: ws-load failed: $(tail -1 "$out")" >&2; exit 1; }
rate=$(awk '/^RESULT/ { split($2, kv, "="); print kv[2] }' "$out")
rm -f "$out"
awk -v s="$server" -v r="$rate" -v size="$size" -v d="$duration" -v t=$((after - before)) -v f=$((faults_after - faults_before)) \
    -v hz="$(getconf CLK_TCK)" 'BEGIN {
        gib = r * d * size / 2^30
        printf "%s, %d B: %.0f msg/s, CPU %.2f s of %d s, %.3f CPU s per GiB echoed, %.2f CPU us and %.2f page faults per message\n",
            s, size, r, t / hz, d, (t / hz) / gib, (t / hz) / (r * d) * 1e6, f / (r * d)
    }'
