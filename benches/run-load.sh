#!/usr/bin/env bash
# Runs every load workload against every echo server side by side, in one run, through
# ws-load, and prints the medians, their spread, and ratios to tungstenite and to
# fastwebsockets.
#
#   bash benches/run-load.sh                          # every workload, 3 rounds of 5 s
#   QUICK=1 bash benches/run-load.sh                  # 1 round of 1 s, idle at 1,000 only: < 2 min
#   ROUNDS=5 DURATION=10 bash benches/run-load.sh echo1 connect
#   bash benches/run-load.sh --server-threads 4       # multi-thread servers on 4 cores
#   SERVERS="ws fastwebsockets" bash benches/run-load.sh echo1
#
# Workloads (default: all):
#   echo1    64 B text, 50 connections, 1 in flight
#   echo16   64 B text, 50 connections, 16 in flight
#   load     20 B binary, 500 connections, 1 in flight (uWebSockets' load_test shape)
#   echo1m   1 MiB binary, 4 connections, 1 in flight
#   connect  connect + handshake + close, 64 at a time
#   idle     server RSS per idle connection at 1,000 and 10,000 connections
#
# Servers (SERVERS, default: all that build here):
#   ws                ws-server (ws-server-blocking), --log off --silence-max 0
#   tungstenite       tungstenite-echo (this package): one thread per connection
#   fastwebsockets    fastwebsockets-echo (this package)
#   tokio-websockets  tokio-websockets-echo (this package)
#   tokio-tungstenite tokio-tungstenite-echo (this package)
#   sockudo           sockudo-ws-echo (this package)
#   ws-tokio          the `examples` package's tokio_echo_server, when examples/Cargo.toml
#                     declares it (otherwise a note says it is skipped)
#   ws-tokio-before   another build of tokio_echo_server, at WS_TOKIO_BEFORE_BIN (for
#                     before/after figures in one run; not in the default list)
#
# Cores: with --server-threads N (default 1) every server is pinned with taskset to
# cores SERVER_CPUS (default 0..N-1) and runs N threads where it can (tokio servers:
# a current-thread runtime for 1, a multi-thread runtime of N workers otherwise;
# ws-server: --workers N when it has that option; tungstenite: a thread per connection
# whatever N is). ws-load runs on LOAD_CPUS (default: the other cores) with
# LOAD_THREADS threads (default: one per load core), each pinned to one of them. When no
# core is left for the generator it shares the server's, and the run says so.
#
# Time: each server is started fresh for every measurement; the servers take turns
# within each round. Every ws-load run is killed after DURATION + WARMUP + 60 s, and a
# server that does not listen within 10 s fails the run, so the run time is bounded:
# about ROUNDS x 5 workloads x servers x (DURATION + WARMUP + 1) s, plus the idle runs.
# IDLE_COUNTS (default "1000 10000") sets the idle connection counts; PORT_BASE the
# first port (default: a block chosen from the pid, below the ephemeral range).
# WS_SERVER_BIN runs another ws-server build as `ws` (a before/after pair in one session).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

server_threads=1
workloads=()
while [ $# -gt 0 ]; do
    case "$1" in
        --server-threads) server_threads="$2"; shift 2 ;;
        --server-threads=*) server_threads="${1#*=}"; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run-load: unknown option $1" >&2; exit 2 ;;
        *) workloads+=("$1"); shift ;;
    esac
done
[ ${#workloads[@]} -gt 0 ] || workloads=(echo1 echo16 load echo1m connect idle)
case "$server_threads" in
    '' | *[!0-9]* | 0) echo "run-load: --server-threads takes a number of at least 1" >&2; exit 2 ;;
esac

if [ "${QUICK:-0}" = 1 ]; then
    rounds="${ROUNDS:-1}"; duration="${DURATION:-1}"; warmup="${WARMUP:-0.5}"
    idle_counts="${IDLE_COUNTS:-1000}"
else
    rounds="${ROUNDS:-3}"; duration="${DURATION:-5}"; warmup="${WARMUP:-1}"
    idle_counts="${IDLE_COUNTS:-1000 10000}"
fi

cores=$(nproc)
server_cpus="${SERVER_CPUS:-0-$((server_threads - 1))}"
if [ -n "${LOAD_CPUS:-}" ]; then
    load_cpus="$LOAD_CPUS"
elif [ "$server_threads" -lt "$cores" ]; then
    load_cpus="$server_threads-$((cores - 1))"
else
    load_cpus="0-$((cores - 1))"
    echo "run-load: note: the servers take all $cores cores; ws-load shares them" >&2
fi
count_cpus() { # "0,2-3" -> 3
    local n=0 part
    for part in ${1//,/ }; do
        if [[ "$part" == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
    done
    echo "$n"
}
load_threads="${LOAD_THREADS:-$(count_cpus "$load_cpus")}"

# 10,000 idle connections need 10,000 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

echo "run-load: building (release)" >&2
cargo build --release --quiet -p ws-server-blocking --features cli --bin ws-server
cargo build --release --quiet -p benches --bin ws-load --bin tungstenite-echo --bin fastwebsockets-echo \
    --bin tokio-websockets-echo --bin tokio-tungstenite-echo --bin sockudo-ws-echo
bin="$root/target/release"
have_ws_tokio=0
if grep -q '^name = "tokio_echo_server"' examples/Cargo.toml 2> /dev/null; then
    if cargo build --release --quiet -p examples --example tokio_echo_server; then
        have_ws_tokio=1
    else
        echo "run-load: note: the tokio_echo_server example did not build: ws-tokio is skipped" >&2
    fi
else
    echo "run-load: note: no tokio_echo_server example on this branch: ws-tokio is skipped" >&2
fi

all_servers=(ws ws-tokio tungstenite fastwebsockets tokio-websockets tokio-tungstenite sockudo)
read -r -a servers <<< "${SERVERS:-${all_servers[*]}}"
if [ "$have_ws_tokio" = 0 ]; then
    kept=()
    for s in "${servers[@]}"; do [ "$s" = ws-tokio ] || kept+=("$s"); done
    servers=("${kept[@]}")
fi

# How each server is asked for N threads, if it can be.
ws_threads_args=()
if [ "$server_threads" -gt 1 ]; then
    if { "${WS_SERVER_BIN:-$bin/ws-server}" --help 2>&1 || true; } | grep -q -- '--workers'; then
        ws_threads_args=(--workers "$server_threads")
    else
        echo "run-load: note: this ws-server has no --workers option: it runs one thread" >&2
    fi
fi
ws_tokio_threads_args=()
if [ "$have_ws_tokio" = 1 ] && [ "$server_threads" -gt 1 ]; then
    if { timeout 5 "$bin/examples/tokio_echo_server" --help 2>&1 || true; } | grep -q -- '--threads'; then
        ws_tokio_threads_args=(--threads "$server_threads")
    else
        echo "run-load: note: tokio_echo_server has no --threads option: it runs its own default runtime" >&2
    fi
fi

# Ports from PORT_BASE (default: one of 50 blocks of 250 between 20000 and 32499, chosen by
# this shell's pid, below Linux's ephemeral range, so that two runs on a shared machine do
# not meet); a port something already listens on is skipped.
port="${PORT_BASE:-$((20000 + ($$ % 50) * 250))}"
server_pid=""
start_server() { # start_server NAME
    port=$((port + 1))
    while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
    local addr="127.0.0.1:$port"
    local cmd
    case "$1" in
        ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0 "${ws_threads_args[@]}") ;;
        ws-tokio) cmd=("$bin/examples/tokio_echo_server" "$addr" "${ws_tokio_threads_args[@]}") ;;
        ws-tokio-before)
            cmd=("${WS_TOKIO_BEFORE_BIN:?run-load: ws-tokio-before needs WS_TOKIO_BEFORE_BIN}" "$addr"
                "${ws_tokio_threads_args[@]}") ;;
        tungstenite) cmd=("$bin/tungstenite-echo" "$addr") ;;
        fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads "$server_threads") ;;
        tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads "$server_threads") ;;
        tokio-tungstenite) cmd=("$bin/tokio-tungstenite-echo" "$addr" --threads "$server_threads") ;;
        sockudo) cmd=("$bin/sockudo-ws-echo" "$addr" --threads "$server_threads") ;;
        *) echo "run-load: unknown server $1" >&2; exit 2 ;;
    esac
    taskset -c "$server_cpus" "${cmd[@]}" > /dev/null &
    server_pid=$!
    for _ in $(seq 200); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "run-load: $1 did not listen on $addr within 10 s" >&2
    exit 1
}

stop_server() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=""
}
trap stop_server EXIT

load() { # load MODE ARGS...: runs ws-load against the server, prints RESULT's first value
    local limit
    limit=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", d + w + 60 }')
    local mode="$1"; shift
    local spread=()
    [ "$mode" = idle ] || spread=(--threads "$load_threads" --cpus "$load_cpus")
    local out
    if ! out=$(timeout "$limit" taskset -c "$load_cpus" "$bin/ws-load" "$mode" "127.0.0.1:$port" "$@" "${spread[@]}" 2>&1); then
        echo "run-load: ws-load $mode failed against port $port: $(echo "$out" | tail -1)" >&2
        echo "failed"
        return 0
    fi
    echo "$out" | awk '/^RESULT/ { split($2, kv, "="); print kv[2] }'
}

args_for() {
    local timing=(--duration "$duration" --warmup "$warmup")
    case "$1" in
        echo1) echo "echo --connections 50 --in-flight 1 --size 64 ${timing[*]}" ;;
        echo16) echo "echo --connections 50 --in-flight 16 --size 64 ${timing[*]}" ;;
        load) echo "load-test --connections 500 --size 20 ${timing[*]}" ;;
        echo1m) echo "echo --connections 4 --in-flight 1 --size 1048576 --binary ${timing[*]}" ;;
        connect) echo "connect --concurrency 64 ${timing[*]}" ;;
        *) echo "run-load: unknown workload $1" >&2; exit 2 ;;
    esac
}

describe() {
    case "$1" in
        echo1) echo "64 B text, 50 connections, 1 in flight (msg/s)" ;;
        echo16) echo "64 B text, 50 connections, 16 in flight (msg/s)" ;;
        load) echo "20 B binary, 500 connections, 1 in flight: load_test shape (msg/s)" ;;
        echo1m) echo "1 MiB binary, 4 connections (msg/s)" ;;
        connect) echo "connect + handshake + close, 64 at a time (/s)" ;;
        idle*) echo "server RSS per idle connection, ${1#idle} connections (KiB; lower is better)" ;;
    esac
}

echo "run-load: servers: ${servers[*]}" >&2
echo "run-load: server cores $server_cpus ($server_threads thread(s)); ws-load: $load_threads thread(s) on cores $load_cpus" >&2
echo "run-load: $rounds round(s) of $duration s after $warmup s warm-up; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
started=$SECONDS

declare -A values # values["row|server"] = "v1 v2 ..."
rows=()
for workload in "${workloads[@]}"; do
    if [ "$workload" = idle ]; then
        for n in $idle_counts; do
            rows+=("idle$n")
            for server in "${servers[@]}"; do
                start_server "$server"
                value=$(load idle --server-pid "$server_pid" --connections "$n" --settle 1)
                stop_server
                echo "idle $n: $server $value KiB per connection" >&2
                values["idle$n|$server"]="$value"
            done
        done
        continue
    fi
    args_for "$workload" > /dev/null
    rows+=("$workload")
    for round in $(seq "$rounds"); do
        for server in "${servers[@]}"; do
            start_server "$server"
            # shellcheck disable=SC2046
            value=$(load $(args_for "$workload"))
            stop_server
            echo "$workload round $round: $server $value" >&2
            values["$workload|$server"]="${values["$workload|$server"]:-} $value"
        done
    done
done

# stats VALUES...: "median min max" of the numeric values (failed runs are left out).
stats() {
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR]
        }'
}
fmt() { # thousands separators for large numbers, 2 decimals for small ones
    awk -v x="$1" 'BEGIN {
        if (x == "-") { print "-"; exit }
        if (x + 0 < 100) { printf "%.2f", x; exit }
        s = sprintf("%.0f", x); out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        print s out
    }'
}
name_of() {
    case "$1" in
        ws) echo "ws-server" ;;
        *) echo "$1" ;;
    esac
}

header="| workload |"
rule="|---|"
for server in "${servers[@]}"; do header="$header $(name_of "$server") |"; rule="$rule---|"; done

echo
echo "Servers on cores $server_cpus ($server_threads thread(s) each where they can), ws-load: $load_threads thread(s) on cores $load_cpus."
echo "Median of $rounds round(s) of $duration s (min-max in brackets when more than one round); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); took $((SECONDS - started)) s."
echo
echo "$header"
echo "$rule"
declare -A median
for row in "${rows[@]}"; do
    line="| $(describe "$row") |"
    for server in "${servers[@]}"; do
        # shellcheck disable=SC2086
        read -r m lo hi <<< "$(stats ${values["$row|$server"]:-})"
        median["$row|$server"]="$m"
        if [ "$rounds" -gt 1 ] && [ "$m" != - ] && [[ "$row" != idle* ]]; then
            line="$line $(fmt "$m") ($(fmt "$lo")-$(fmt "$hi")) |"
        else
            line="$line $(fmt "$m") |"
        fi
    done
    echo "$line"
done

for base in tungstenite fastwebsockets; do
    in_run=0
    for server in "${servers[@]}"; do [ "$server" = "$base" ] && in_run=1; done
    [ "$in_run" = 1 ] || continue
    echo
    echo "Ratio to $base (memory rows: the server's KiB over $base's, lower is better):"
    echo
    echo "$header"
    echo "$rule"
    for row in "${rows[@]}"; do
        line="| $(describe "$row") |"
        for server in "${servers[@]}"; do
            ratio=$(awk -v a="${median["$row|$server"]}" -v b="${median["$row|$base"]}" \
                'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else if (a / b < 0.1) printf "%.3fx", a / b; else printf "%.2fx", a / b }')
            line="$line $ratio |"
        done
        echo "$line"
    done
done
