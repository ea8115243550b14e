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
# IDLE_COUNTS (default "1000 10000") sets the idle connection counts; a count that does
# not fit the descriptor limits (20000 under a hard limit of 20,000: each side needs a
# few descriptors beside its connections) is measured at the most that fit, and a line
# on stderr says how many (ws-load idle --fit). PORT_BASE the
# first port (default: a block chosen from the pid, below the ephemeral range).
# WS_SERVER_BIN runs another ws-server build as `ws` (a before/after pair in one session),
# WS_TOKIO_BIN another tokio_echo_server build as `ws-tokio`.
#
# How each server is started and how ws-load is invoked for each workload are in
# benches/lib.sh, shared with benches/cpu-per.sh (CPU time per message or connection).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
prog=run-load
# shellcheck source=benches/lib.sh
. "$root/benches/lib.sh"

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
load_threads="${LOAD_THREADS:-$(count_cpus "$load_cpus")}"

# 10,000 idle connections need 10,000 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

bin="${BENCH_BIN:-$root/target/release}"
build_release

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
    if { timeout 5 "${WS_TOKIO_BIN:-$bin/examples/tokio_echo_server}" --help 2>&1 || true; } | grep -q -- '--threads'; then
        ws_tokio_threads_args=(--threads "$server_threads")
    else
        echo "run-load: note: tokio_echo_server has no --threads option: it runs its own default runtime" >&2
    fi
fi

trap stop_server EXIT

load() { # load MODE ARGS...: runs ws-load against the server, prints RESULT's first value
    load_command "$@"
    local out
    if ! out=$("${load_cmd[@]}" 2>&1); then
        echo "run-load: ws-load $1 failed against port $port: $(echo "$out" | tail -1)" >&2
        echo "failed"
        return 0
    fi
    # ws-load idle --fit says when it measured fewer connections than asked (descriptor
    # limits): pass that on.
    echo "$out" | grep '^idle: .*--fit' >&2 || true
    echo "$out" | awk '/^RESULT/ { split($2, kv, "="); print kv[2] }'
}

describe() {
    case "$1" in
        connect) echo "$(workload_shape "$1") (/s)" ;;
        idle*) echo "server RSS per idle connection, ${1#idle} connections (KiB; lower is better)" ;;
        *) echo "$(workload_shape "$1") (msg/s)" ;;
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
                value=$(load idle --server-pid "$server_pid" --connections "$n" --settle 1 --fit)
                stop_server
                echo "idle $n: $server $value KiB per connection" >&2
                values["idle$n|$server"]="$value"
            done
        done
        continue
    fi
    workload_args "$workload" > /dev/null || exit 2
    rows+=("$workload")
    for round in $(seq "$rounds"); do
        for server in "${servers[@]}"; do
            start_server "$server"
            # shellcheck disable=SC2046
            value=$(load $(workload_args "$workload"))
            stop_server
            echo "$workload round $round: $server $value" >&2
            values["$workload|$server"]="${values["$workload|$server"]:-} $value"
        done
    done
done

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
