#!/usr/bin/env bash
# Instruction counts (callgrind) and system calls (strace -c) per echoed message, for
# one server and one echo workload: figures that a shared, noisy machine cannot blur.
#
#   bash benches/profile.sh SERVER WORKLOAD [callgrind|strace|both]
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets.
# WORKLOAD: echo1 (64 B text, 50 connections, 1 in flight) | echo16 (16 in flight) |
#           echo1m (1 MiB binary, 4 connections, 1 in flight) |
#           load (20 B binary, 500 connections, 1 in flight: uWebSockets' load_test) |
#           connect (connect + handshake + close, 64 at a time: figures per connection).
#
# The server runs under the tool; ws-load (release) drives it. The counters are zeroed
# when ws-load's warm-up ends and dumped when its measurement ends, and divided by the
# messages echoed in that window, so handshakes and start-up are left out. For ws-server
# and ws-tokio the echoes are counted exactly (calls to ws-proto's push_frame, by
# benches/callgrind-calls.py); for the others, ws-load's count covers a window a little
# off the profiler's (it is told by a signal), so read their figures to about 5%.
# connect counts connections: ws-server and ws-tokio by their calls to ws-proto's
# accept_key (one per handshake), the others by their calls to libc's close; strace by
# the accept4 calls that succeeded. callgrind slows the server 30-60x: the rates it reports are meaningless; only the
# instructions per message are. Knobs: DURATION (s, default 6), WARMUP (s, default 2),
# OUT (folder for callgrind.out files, default target/profile), WS_TOKIO_BIN and WS_SERVER_BIN (other builds
# of tokio_echo_server and ws-server to measure, for before/after figures).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
server="${1:?usage: profile.sh SERVER WORKLOAD [callgrind|strace|both]}"
workload="${2:?usage: profile.sh SERVER WORKLOAD [callgrind|strace|both]}"
tool="${3:-both}"
duration="${DURATION:-6}"
warmup="${WARMUP:-2}"
out="${OUT:-$root/target/profile}"
mkdir -p "$out"
bin="$root/target/release"

case "$workload" in
    echo1) load_args=(--connections 50 --in-flight 1 --size 64) ;;
    echo16) load_args=(--connections 50 --in-flight 16 --size 64) ;;
    echo1m) load_args=(--connections 4 --in-flight 1 --size 1048576 --binary) ;;
    load) load_args=(--connections 500 --size 20) ;;
    connect) load_args=(--concurrency 64) ;;
    *) echo "profile: unknown workload $workload" >&2; exit 2 ;;
esac
mode=echo
[ "$workload" = connect ] && mode=connect
[ "$workload" = load ] && mode=load-test

# Below Linux's ephemeral ports (32768 on), which the load generator's own sockets use.
port=$((30000 + $$ % 2000))
while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
addr="127.0.0.1:$port"
case "$server" in
    ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0) ;;
    ws-tokio) cmd=("${WS_TOKIO_BIN:-$bin/examples/tokio_echo_server}" "$addr") ;;
    fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads 1) ;;
    tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads 1) ;;
    *) echo "profile: unknown server $server" >&2; exit 2 ;;
esac

run_one() { # run_one callgrind|strace
    local tag="$server-$workload"
    local pid tool_pid
    case "$1" in
        callgrind)
            valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$tag.%p" \
                "${cmd[@]}" > /dev/null 2> "$out/valgrind.$tag.log" &
            tool_pid=$! ;;
        strace)
            "${cmd[@]}" > /dev/null 2>&1 &
            tool_pid=$! ;;
    esac
    for _ in $(seq 1200); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
        sleep 0.05
    done
    # valgrind runs the server in its own process: find it.
    pid="$tool_pid"
    "$bin/ws-load" "$mode" "$addr" "${load_args[@]}" --duration "$duration" --warmup "$warmup" \
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
    kill "$tool_pid" 2> /dev/null || true
    wait "$tool_pid" 2> /dev/null || true
    local rate messages
    rate=$(awk '/^RESULT/ { split($2, kv, "="); print kv[2] }' "$out/load.$tag.$1.txt")
    messages=$(awk -v r="$rate" -v d="$duration" 'BEGIN { printf "%d", r * d }')
    case "$1" in
        callgrind)
            local file ir
            # The dump made at the end of the window (the other file is the one made at exit).
            file="$out/callgrind.$tag.$tool_pid.1"
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
    *) echo "profile: unknown tool $tool" >&2; exit 2 ;;
esac
