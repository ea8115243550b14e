#!/usr/bin/env bash
# CPU time an echo server spends per unit served: its user + system time from
# /proc/PID/stat over ws-load's measured window, over the messages echoed (or the
# connections served) in it; with its page faults per unit and, for 1 MiB messages, its
# CPU per echoed GiB (1 GiB in and 1 GiB out). Per-core throughput is its inverse when
# the server is the bottleneck: unlike a rate, it does not depend on how much CPU the
# server got on a shared machine (a server waiting for a core is not charged for the
# wait), though other work still disturbs it (caches, memory bandwidth). Compare builds
# in one run, taking turns (several SERVERs, WS_SERVER_BIN / WS_TOKIO_BIN), and read
# the per-GiB figure beside this machine's memcpy bandwidth
# (`cargo run --release -p benches --bin memcpy-bw`).
#
#   bash benches/cpu-per.sh SERVER[,SERVER...] WORKLOAD
#   bash benches/cpu-per.sh ws,fastwebsockets echo1m
#   ROUNDS=5 WS_SERVER_BIN=/tmp/ws-server-before bash benches/cpu-per.sh ws connect
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets | tokio-tungstenite |
#         tungstenite | sockudo | ws-tokio-before (WS_TOKIO_BEFORE_BIN), each started
#         with one thread as benches/run-load.sh starts it (tungstenite: a thread per
#         connection; its threads' time is counted too). Several, comma-separated, take
#         turns within each round.
# WORKLOAD (units):
#   echo1    64 B text, 50 connections, 1 in flight (messages)
#   echo16   64 B text, 50 connections, 16 in flight (messages)
#   echo1m   1 MiB binary, 4 connections, 1 in flight (messages; and per echoed GiB)
#   load     20 B binary, 500 connections, 1 in flight: uWebSockets' load_test (messages)
#   connect  connect + handshake + close, 64 at a time (connections; a round where
#            ws-load counts an error fails)
# ws-load's arguments for each are benches/lib.sh's, the same as run-load.sh's.
#
# Knobs: ROUNDS (default 3; each round starts every server afresh, and each round's
# figures are printed, then the medians), DURATION (s measured, default 5), WARMUP (s
# before measuring, default 2), SERVER_CPU (the core list the server is pinned to,
# default 0), LOAD_CPU (ws-load's cores, one generator thread on each; default 1, or 0 on
# a one-core machine), WS_SERVER_BIN and WS_TOKIO_BIN (other builds of ws-server and of
# tokio_echo_server, run as `ws` and `ws-tokio`), PORT_BASE (first port tried).
#
# Every wait is bounded: a server that does not listen within 10 s fails the run, ws-load
# is killed after DURATION + WARMUP + 60 s, and the server is killed by its pid when its
# round ends or the script exits. The CPU is read just after ws-load's warm-up ends and
# again DURATION s later (wall time taken from the shell's clock, so the window's length
# is the one measured); the server's CPU per second over its messages per second (ws-load's
# rate over its own window) gives the cost per unit. The kernel's clock tick (usually
# 10 ms) bounds the precision: 5 s of a busy server is about 500 ticks, 0.2%.
set -euo pipefail
export LC_ALL=C # a decimal point in EPOCHREALTIME and awk

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
prog=cpu-per
# shellcheck source=benches/lib.sh
. "$root/benches/lib.sh"

case "${1:-}" in
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -ne 2 ]; then
    echo "usage: bash benches/cpu-per.sh SERVER[,SERVER...] WORKLOAD (--help for more)" >&2
    exit 2
fi
IFS=, read -r -a servers <<< "$1"
workload="$2"

rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
warmup="${WARMUP:-2}"
case "$rounds" in '' | *[!0-9]* | 0) echo "$prog: ROUNDS takes a number of at least 1" >&2; exit 2 ;; esac
for knob in "$duration" "$warmup"; do
    [[ "$knob" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "$prog: DURATION and WARMUP take seconds, such as 5 or 0.5" >&2; exit 2; }
done
awk -v d="$duration" 'BEGIN { exit !(d > 0) }' || { echo "$prog: DURATION must be above 0" >&2; exit 2; }

bin="${BENCH_BIN:-$root/target/release}"
server_threads=1
ws_threads_args=()
ws_tokio_threads_args=()
server_cpus="${SERVER_CPU:-0}"
if [ "$(nproc)" -gt 1 ]; then load_cpus="${LOAD_CPU:-1}"; else load_cpus="${LOAD_CPU:-0}"; fi
load_threads="$(count_cpus "$load_cpus")"

# Everything is checked before anything is built or started.
args=$(workload_args "$workload") || exit 2
read -r -a load_args <<< "$args"
for server in "${servers[@]}"; do server_command "$server" 127.0.0.1:0 || exit 2; done
size=0
for i in "${!load_args[@]}"; do
    [ "${load_args[$i]}" = --size ] && size="${load_args[$((i + 1))]}"
done
if [ "$workload" = connect ]; then unit=connection; else unit=message; fi
per_gib=0
[ "$size" -ge 1048576 ] && per_gib=1

build_release
for server in "${servers[@]}"; do
    if [ "$have_ws_tokio" = 0 ] && [ "$server" = ws-tokio ]; then
        echo "$prog: ws-tokio is not built on this branch (see the note above)" >&2
        exit 1
    fi
done

ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
hz=$(getconf CLK_TCK)
out=$(mktemp)
load_pid=""
sleep_pid=""
# pause SECONDS: sleeps in the background and waits for it, so that a TERM or INT is acted
# on at once (bash runs a trap only once the foreground command has ended).
pause() {
    sleep "$1" &
    sleep_pid=$!
    wait "$sleep_pid"
    sleep_pid=""
}
cleanup() {
    [ -z "$sleep_pid" ] || kill "$sleep_pid" 2> /dev/null || true
    if [ -n "$load_pid" ]; then
        kill "$load_pid" 2> /dev/null || true
        wait "$load_pid" 2> /dev/null || true
    fi
    stop_server
    rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# sample: sets s_ticks (user + system clock ticks), s_faults (minor + major page faults)
# and s_time (wall seconds) for the server, all its threads included. The fields are
# counted after the command name's closing parenthesis (the name may hold spaces).
sample() {
    local line
    read -r line < "/proc/$server_pid/stat"
    local -a f
    read -r -a f <<< "${line##*) }"
    s_time=$EPOCHREALTIME
    s_ticks=$((f[11] + f[12]))
    s_faults=$((f[7] + f[9]))
}

# gone SERVER: true (with result=failed, ws-load reaped) if the server has exited.
gone() {
    kill -0 "$server_pid" 2> /dev/null && return 1
    echo "$prog: $1 exited during the run" >&2
    wait "$load_pid" 2> /dev/null || true
    load_pid=""
    server_pid=""
    result=failed
}

# one SERVER: one measurement; sets result to "us_per_unit faults_per_unit ms_per_gib rate
# cpu_share", or to "failed" (with the reason on stderr). Run in this shell, not in a
# subshell, so that the EXIT trap knows the server's and ws-load's pids.
one() {
    start_server "$1"
    load_command "${load_args[@]}"
    "${load_cmd[@]}" > "$out" 2>&1 &
    load_pid=$!
    pause "$warmup"
    gone "$1" && return 0
    sample
    local t0=$s_time ticks0=$s_ticks faults0=$s_faults
    pause "$duration"
    gone "$1" && return 0
    sample
    local status=0
    wait "$load_pid" || status=$?
    load_pid=""
    stop_server
    if [ "$status" != 0 ]; then
        echo "$prog: ws-load failed against $1 (status $status): $(tail -1 "$out")" >&2
        result=failed
        return 0
    fi
    result=$(awk -v t0="$t0" -v t1="$s_time" -v ticks=$((s_ticks - ticks0)) -v faults=$((s_faults - faults0)) \
        -v hz="$hz" -v size="$size" -v per_gib="$per_gib" -v who="$1" -v prog="$prog" '
        /^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
            found = 1
        }
        END {
            if (!found) { print prog ": ws-load printed no RESULT line against " who > "/dev/stderr"; print "failed"; exit }
            if (r["errors"] + 0 > 0) { print prog ": ws-load counted " r["errors"] " errors against " who > "/dev/stderr"; print "failed"; exit }
            rate = r["rate"] + 0
            if (rate <= 0) { print prog ": nothing was served by " who > "/dev/stderr"; print "failed"; exit }
            wall = t1 - t0; cpu = ticks / hz
            per_unit = cpu / wall / rate
            gib = per_gib ? sprintf("%.0f", per_unit / (size / 2^30) * 1e3) : "-"
            printf "%.2f %.3f %s %.0f %.2f\n", per_unit * 1e6, faults / wall / rate, gib, rate, cpu / wall
        }' "$out")
}

echo "$prog: $workload ($(workload_shape "$workload")): ${servers[*]}; $rounds round(s) of $duration s after $warmup s warm-up" >&2
echo "$prog: server on cores $server_cpus, ws-load: $load_threads thread(s) on cores $load_cpus; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
started=$SECONDS
declare -A per_unit faults gib
failed=0
for round in $(seq "$rounds"); do
    for server in "${servers[@]}"; do
        one "$server"
        read -r u f g rate share <<< "$result"
        if [ "$u" = failed ]; then
            failed=1
            echo "round $round: $server failed"
        else
            line="round $round: $server $u µs of CPU and $f page faults per $unit"
            [ "$per_gib" = 0 ] || line="$line, $g ms of CPU per echoed GiB"
            echo "$line ($rate ${unit}s/s, the server busy ${share}x of one core)"
        fi
        per_unit[$server]="${per_unit[$server]:-} $u"
        faults[$server]="${faults[$server]:-} ${f:-failed}"
        gib[$server]="${gib[$server]:-} ${g:-failed}"
    done
done

median() { # median "VALUES" FORMAT: the median of the numeric values, "-" if none
    local m _
    # shellcheck disable=SC2086
    read -r m _ <<< "$(stats $1)"
    if [ "$m" = - ]; then echo -; else awk -v m="$m" -v f="$2" 'BEGIN { printf f, m }'; fi
}
each() { # each "VALUES": the values comma-separated
    local list="${1# }"
    echo "${list// /, }"
}
echo
echo "Median of $rounds round(s) of $duration s; server on cores $server_cpus, ws-load on $load_cpus; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); took $((SECONDS - started)) s."
echo
header="| server | $workload: CPU µs per $unit, median (each round) | page faults per $unit |"
rule="|---|---|---|"
if [ "$per_gib" = 1 ]; then header="$header CPU ms per echoed GiB (each round) |"; rule="$rule---|"; fi
echo "$header"
echo "$rule"
for server in "${servers[@]}"; do
    line="| $server | $(median "${per_unit[$server]}" %.2f) ($(each "${per_unit[$server]}")) | $(median "${faults[$server]}" %.3f) |"
    [ "$per_gib" = 0 ] || line="$line $(median "${gib[$server]}" %.0f) ($(each "${gib[$server]}")) |"
    echo "$line"
done
exit "$failed"
