#!/usr/bin/env bash
# Instruction counts (callgrind) and system calls (strace -c) per echoed message, for
# one server and one echo workload: figures that a shared, noisy machine cannot blur.
#
#   bash benches/profile.sh SERVER WORKLOAD [callgrind|strace|both]
#   bash benches/profile.sh ws echo1 callgrind
#   WS_SERVER_BIN=/tmp/ws-server-before bash benches/profile.sh ws connect
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets | tokio-tungstenite |
#         tungstenite | sockudo | ws-tokio-before (WS_TOKIO_BEFORE_BIN), started with one
#         thread as benches/run-load.sh and benches/cpu-per.sh start them (benches/lib.sh).
# WORKLOAD: echo1 (64 B text, 50 connections, 1 in flight) | echo16 (16 in flight) |
#           echo1m (1 MiB binary, 4 connections, 1 in flight) |
#           load (20 B binary, 500 connections, 1 in flight: uWebSockets' load_test) |
#           connect (connect + handshake + close, 64 at a time: figures per connection);
#           ws-load's arguments for each are benches/lib.sh's.
# The third argument: which tool, default both (callgrind, then strace).
#
# Every server and ws-load are built first (release, as run-load.sh builds them), unless
# BENCH_BIN names a folder of prebuilt binaries. The server runs under the tool; ws-load
# drives it. The counters are zeroed
# when ws-load's warm-up ends and dumped when its measurement ends, and divided by the
# messages echoed in that window, so handshakes and start-up are left out. For ws-server
# and ws-tokio the echoes are counted exactly (calls to ws-proto's push_frame, by
# benches/callgrind-calls.py); for the others, ws-load's count covers a window a little
# off the profiler's (it is told by a signal), so read their figures to about 5%.
# connect counts connections: ws-server and ws-tokio by their calls to ws-proto's
# accept_key (one per handshake), the others by their calls to libc's close; strace by
# the accept4 calls that succeeded. callgrind slows the server 30-60x: the rates it
# reports are meaningless; only the instructions per message are. A server has 60 s to
# listen (valgrind starts slowly). Knobs: DURATION (s, default 6), WARMUP (s, default 2),
# OUT (folder for callgrind.out files, default target/profile), SERVER_CPU (the cores
# the server is pinned to, default all), WS_TOKIO_BIN and WS_SERVER_BIN (other builds of
# tokio_echo_server and ws-server to measure, for before/after figures), BENCH_BIN,
# PORT_BASE (first port tried).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
prog=profile
# shellcheck source=benches/lib.sh
. "$root/benches/lib.sh"

case "${1:-}" in
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: bash benches/profile.sh SERVER WORKLOAD [callgrind|strace|both] (--help for more)" >&2
    exit 2
fi
server="$1"
workload="$2"
tool="${3:-both}"
duration="${DURATION:-6}"
warmup="${WARMUP:-2}"
out="${OUT:-$root/target/profile}"
bin="${BENCH_BIN:-$root/target/release}"
server_threads=1
ws_threads_args=()
ws_tokio_threads_args=()
server_cpus="${SERVER_CPU:-0-$(($(nproc) - 1))}"
listen_timeout=60

# Everything is checked before anything is built or started.
case "$tool" in
    callgrind | strace | both) ;;
    *) echo "profile: unknown tool $tool" >&2; exit 2 ;;
esac
args=$(workload_args "$workload") || exit 2
read -r -a load_args <<< "$args"
mode="${load_args[0]}"
load_args=("${load_args[@]:1}")
server_command "$server" 127.0.0.1:0 || exit 2
mkdir -p "$out"
build_release
if [ "$have_ws_tokio" = 0 ] && [ "$server" = ws-tokio ]; then
    echo "$prog: ws-tokio is not built on this branch (see the note above)" >&2
    exit 1
fi
trap stop_server EXIT

run_one() { # run_one callgrind|strace
    local tag="$server-$workload"
    case "$1" in
        callgrind)
            server_wrapper=(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$tag.%p")
            server_stderr="$out/valgrind.$tag.log" ;;
        strace)
            server_wrapper=()
            server_stderr=/dev/null ;;
    esac
    start_server "$server"
    # valgrind runs the server in the process taskset started (each execs the next).
    local pid="$server_pid"
    local addr="127.0.0.1:$port"
    "$bin/ws-load" "$mode" "$addr" "${load_args[@]}" \
        > "$out/load.$tag.$1.txt" 2>&1 &
    local load_pid=$!
    sleep "$warmup"
    local strace_pid=""
    case "$1" in
        callgrind) callgrind_control -z "$pid" > /dev/null 2>&1 ;;
        strace)
            strace -c -f -p "$pid" -o "$out/strace.$tag.txt" 2> /dev/null &
            strace_pid=$! ;;
    esac
    sleep "$duration"
    case "$1" in
        callgrind) callgrind_control -d "$pid" > /dev/null 2>&1 ;;
        strace) kill -INT "$strace_pid"; wait "$strace_pid" || true ;;
    esac
    wait "$load_pid" || { echo "profile: ws-load failed: $(tail -1 "$out/load.$tag.$1.txt")" >&2; }
    stop_server
    local rate messages
    rate=$(awk '/^RESULT/ { split($2, kv, "="); print kv[2] }' "$out/load.$tag.$1.txt")
    messages=$(awk -v r="$rate" -v d="$duration" 'BEGIN { printf "%d", r * d }')
    case "$1" in
        callgrind)
            local file ir
            # The dump made at the end of the window (the other file is the one made at exit).
            file="$out/callgrind.$tag.$pid.1"
            ir=$(callgrind_annotate "$file" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
            callgrind_annotate --inclusive=no "$file" 2> /dev/null | head -40 > "$out/top.$tag.txt"
            # ws-server and ws-tokio: count the echoes exactly, as the calls to ws-proto's
            # push_frame plus send_binary_external (one or the other per echoed message:
            # a large binary echo queues its header alone) in the window; others:
            # ws-load's count. For `connect`, one accept key per handshake (ws-server,
            # ws-tokio) or one close per connection (the others).
            local exact external=0
            local counted='Session>::push_frame'
            if [ "$workload" = connect ]; then
                case "$server" in
                    ws | ws-tokio) counted='ws_proto::handshake::accept_key' ;;
                    *) counted='=close' ;;
                esac
            else
                external=$(python3 "$root/benches/callgrind-calls.py" "$file" 'Session>::send_binary_external')
            fi
            exact=$(python3 "$root/benches/callgrind-calls.py" "$file" "$counted")
            exact=$((exact + external))
            [ "$exact" -gt 0 ] && messages="$exact"
            awk -v ir="$ir" -v m="$messages" -v s="$server" -v w="$workload" \
                'BEGIN { printf "%s %s: %d messages, %.0f instructions per message (%s)\n", s, w, m, ir / m, "callgrind" }' ;;
        strace)
            # connect: per connection, counted exactly as the accept4 calls that
            # succeeded (calls less errors).
            awk -v m="$messages" -v s="$server" -v w="$workload" '
                $1 ~ /^[0-9.]+$/ && NF >= 5 { calls[$NF] = $4; if (NF == 6) errors[$NF] = $5 }
                END {
                    unit = "message"
                    if (w == "connect") { m = calls["accept4"] - errors["accept4"]; unit = "connection" }
                    printf "%s %s: %d %ss; system calls per %s:", s, w, m, unit, unit
                    for (c in calls) if (c != "total") printf " %s %.3f", c, calls[c] / m
                    if (w == "connect") for (c in errors) if (c != "total") printf " (%s failed %.3f)", c, errors[c] / m
                    printf "\n"
                }' "$out/strace.$tag.txt" ;;
    esac
}

case "$tool" in
    callgrind) run_one callgrind ;;
    strace) run_one strace ;;
    both) run_one callgrind; run_one strace ;;
esac
