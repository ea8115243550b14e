#!/usr/bin/env bash
# Runs each load workload against ws-server and the tungstenite baseline, alternately,
# several rounds, and prints the table of medians and ratios.
#
#   bash benches/run-load.sh            # every workload, 3 rounds of 5 s
#   ROUNDS=5 DURATION=10 bash benches/run-load.sh echo1 connect
#
# Workloads: echo1 (64 B, 50 connections, 1 in flight), echo16 (16 in flight),
# echo1m (1 MiB binary, 4 connections), connect (16 at a time), idle (10,000 idle
# connections, and 1,000 and 5,000 for ws-server to show the cost stays flat).
#
# Each server runs pinned to CPU $SERVER_CPU and ws-load to CPU $LOAD_CPU (defaults 0
# and 1), so that both servers get one core and the generator another; each run starts a
# fresh server process. Servers are release builds; logging is off.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
server_cpu="${SERVER_CPU:-0}"
load_cpu="${LOAD_CPU:-1}"
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(echo1 echo16 echo1m connect idle)

cargo build --release --quiet --manifest-path "$root/Cargo.toml" \
    -p ws-server-blocking --features ws-server-blocking/cli --bin ws-server -p benches --bin ws-load --bin tungstenite-echo
bin="$root/target/release"
port=19201

server_pid=""
start_server() { # start_server ws|tungstenite
    port=$((port + 1))
    if [ "$1" = ws ]; then
        taskset -c "$server_cpu" "$bin/ws-server" --listen "127.0.0.1:$port" --log off --silence-max 0 > /dev/null &
    else
        taskset -c "$server_cpu" "$bin/tungstenite-echo" "127.0.0.1:$port" > /dev/null &
    fi
    server_pid=$!
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "run-load: $1 did not start" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
}
trap stop_server EXIT

load() { # load ARGS...: runs ws-load, prints the value of RESULT's first key
    taskset -c "$load_cpu" "$bin/ws-load" "$@" | awk '/^RESULT/ { split($2, kv, "="); print kv[2] }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

args_for() {
    case "$1" in
        echo1) echo "echo ADDR --connections 50 --in-flight 1 --size 64 --duration $duration --warmup 1" ;;
        echo16) echo "echo ADDR --connections 50 --in-flight 16 --size 64 --duration $duration --warmup 1" ;;
        echo1m) echo "echo ADDR --connections 4 --in-flight 1 --size 1048576 --binary --duration $duration --warmup 1" ;;
        connect) echo "connect ADDR --concurrency 16 --duration $duration --warmup 1" ;;
        *) echo "run-load: unknown workload $1" >&2; exit 2 ;;
    esac
}

describe() {
    case "$1" in
        echo1) echo "64 B text echo, 50 connections, 1 in flight (msg/s)" ;;
        echo16) echo "64 B text echo, 50 connections, 16 in flight (msg/s)" ;;
        echo1m) echo "1 MiB binary echo, 4 connections (msg/s)" ;;
        connect) echo "connect + handshake + close, 16 at a time (/s)" ;;
    esac
}

results=()
for workload in "${workloads[@]}"; do
    if [ "$workload" = idle ]; then
        for n in 1000 5000 10000; do
            start_server ws
            ws=$(load idle "127.0.0.1:$port" --server-pid "$server_pid" --connections "$n" --settle 1)
            stop_server
            echo "idle $n connections: ws-server $ws KiB per connection"
            results+=("server RSS per idle connection, $n connections (KiB)|$ws|-|-")
        done
        start_server tungstenite
        tung=$(load idle "127.0.0.1:$port" --server-pid "$server_pid" --connections 10000 --settle 1)
        stop_server
        echo "idle 10000 connections: tungstenite $tung KiB per connection"
        results+=("server RSS per idle connection, 10,000 connections, vs tungstenite (KiB)|$(echo "${results[-1]}" | cut -d'|' -f2)|$tung|$(awk -v a="$(echo "${results[-1]}" | cut -d'|' -f2)" -v b="$tung" 'BEGIN { printf "%.0fx less", b / a }')")
        continue
    fi
    ws_values=()
    tung_values=()
    for round in $(seq "$rounds"); do
        for server in ws tungstenite; do
            start_server "$server"
            value=$(load $(args_for "$workload" | sed "s/ADDR/127.0.0.1:$port/"))
            stop_server
            echo "$workload round $round: $server $value"
            if [ "$server" = ws ]; then ws_values+=("$value"); else tung_values+=("$value"); fi
        done
    done
    ws=$(printf '%s\n' "${ws_values[@]}" | median)
    tung=$(printf '%s\n' "${tung_values[@]}" | median)
    ratio=$(awk -v a="$ws" -v b="$tung" 'BEGIN { printf "%.2fx", a / b }')
    results+=("$(describe "$workload")|$ws|$tung|$ratio")
done

echo
echo "| workload (median of $rounds rounds of ${duration} s) | ws-server | tungstenite | ratio |"
echo "|---|---|---|---|"
for row in "${results[@]}"; do
    IFS='|' read -r name ws tung ratio <<< "$row"
    echo "| $name | $ws | $tung | $ratio |"
done
