# Definitions shared by run-load.sh and cpu-per.sh, sourced by both (not run on its own):
# the release build, how each echo server is started, how ws-load is invoked for each
# workload, free ports, and the median.
#
# The sourcing script sets, before calling these:
#   prog          its name, for messages ("run-load", "cpu-per")
#   bin           the release folder (target/release)
#   duration, warmup                 ws-load's measured and warm-up seconds
#   server_threads                   threads asked of each server (1: single-threaded)
#   server_cpus, load_cpus, load_threads   taskset lists, ws-load's --threads
#   ws_threads_args, ws_tokio_threads_args (arrays; empty for one thread)
# Environment: BENCH_BIN, a folder holding release builds laid out as target/release is
# (ws-server, ws-load, the anchors' echo servers, examples/tokio_echo_server), runs those
# and builds nothing (for a machine without a toolchain); WS_SERVER_BIN and WS_TOKIO_BIN run other builds of ws-server and of
# tokio_echo_server as `ws` and `ws-tokio`; WS_TOKIO_BEFORE_BIN is `ws-tokio-before`;
# PORT_BASE the first port tried.

# build_release: builds every server and ws-load (release); sets have_ws_tokio to 1 when
# the `examples` package declares tokio_echo_server and it built (or WS_TOKIO_BIN is set).
build_release() {
    if [ -n "${BENCH_BIN:-}" ]; then
        # Prebuilt binaries (a machine without a toolchain): nothing is built.
        have_ws_tokio=0
        [ -x "$bin/examples/tokio_echo_server" ] || [ -n "${WS_TOKIO_BIN:-}" ] && have_ws_tokio=1
        echo "$prog: using the binaries in $bin (BENCH_BIN): nothing built" >&2
        return 0
    fi
    echo "$prog: building (release)" >&2
    cargo build --release --quiet -p ws-server-blocking --features cli --bin ws-server
    cargo build --release --quiet -p benches --bin ws-load --bin floor-echo --bin floor-tokio --bin tungstenite-echo --bin fastwebsockets-echo \
        --bin tokio-websockets-echo --bin tokio-tungstenite-echo --bin sockudo-ws-echo
    have_ws_tokio=0
    if [ -n "${WS_TOKIO_BIN:-}" ]; then
        have_ws_tokio=1
    elif grep -q '^name = "tokio_echo_server"' examples/Cargo.toml 2> /dev/null; then
        if cargo build --release --quiet -p examples --example tokio_echo_server; then
            have_ws_tokio=1
        else
            echo "$prog: note: the tokio_echo_server example did not build: ws-tokio is skipped" >&2
        fi
    else
        echo "$prog: note: no tokio_echo_server example on this branch: ws-tokio is skipped" >&2
    fi
}

# server_command NAME ADDR: sets the array `cmd` to the command line of server NAME
# listening on ADDR; fails (status 2, with a message) for an unknown NAME.
server_command() {
    local addr="$2"
    case "$1" in
        ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0 "${ws_threads_args[@]}") ;;
        ws-tokio) cmd=("${WS_TOKIO_BIN:-$bin/examples/tokio_echo_server}" "$addr" "${ws_tokio_threads_args[@]}") ;;
        ws-tokio-before)
            cmd=("${WS_TOKIO_BEFORE_BIN:?$prog: ws-tokio-before needs WS_TOKIO_BEFORE_BIN}" "$addr"
                "${ws_tokio_threads_args[@]}") ;;
        tungstenite) cmd=("$bin/tungstenite-echo" "$addr") ;;
        floor) cmd=("$bin/floor-echo" "$addr") ;;
        floor-tokio) cmd=("$bin/floor-tokio" "$addr") ;;
        fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads "$server_threads") ;;
        tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads "$server_threads") ;;
        tokio-tungstenite) cmd=("$bin/tokio-tungstenite-echo" "$addr" --threads "$server_threads") ;;
        sockudo) cmd=("$bin/sockudo-ws-echo" "$addr" --threads "$server_threads") ;;
        *) echo "$prog: unknown server $1" >&2; return 2 ;;
    esac
}

# Ports from PORT_BASE (default: one of 50 blocks of 250 between 20000 and 32499, chosen by
# this shell's pid, below Linux's ephemeral range, so that two runs on a shared machine do
# not meet); a port something already listens on is skipped.
port="${PORT_BASE:-$((20000 + ($$ % 50) * 250))}"
server_pid=""

# start_server NAME: starts server NAME on the next free port, pinned to server_cpus; sets
# server_pid and port. Exits the script if the server is not built, exits, or does not
# listen within listen_timeout s. Optional, set by the sourcing script:
#   server_wrapper   an array run in front of the server, in its process (profile.sh:
#                    valgrind); default none
#   server_stderr    where the server's stderr goes; default the script's
#   listen_timeout   seconds a server has to listen; default 10
start_server() {
    port=$((port + 1))
    while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
    local addr="127.0.0.1:$port"
    server_command "$1" "$addr" || exit 2
    if [ ! -x "${cmd[0]}" ]; then
        echo "$prog: ${cmd[0]} is not built" >&2
        exit 1
    fi
    local timeout="${listen_timeout:-10}"
    if [ -n "${server_stderr:-}" ]; then
        taskset -c "$server_cpus" ${server_wrapper[@]+"${server_wrapper[@]}"} "${cmd[@]}" > /dev/null 2> "$server_stderr" &
    else
        taskset -c "$server_cpus" ${server_wrapper[@]+"${server_wrapper[@]}"} "${cmd[@]}" > /dev/null &
    fi
    server_pid=$!
    local deadline=$((SECONDS + timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
        if ! kill -0 "$server_pid" 2> /dev/null; then
            echo "$prog: $1 exited before listening on $addr" >&2
            server_pid=""
            exit 1
        fi
        sleep 0.05
    done
    echo "$prog: $1 did not listen on $addr within $timeout s" >&2
    exit 1
}

# stop_server: kills the server started last, by its pid, and reaps it.
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=""
}

# workload_args WORKLOAD: prints ws-load's mode and arguments for WORKLOAD (timing
# included); fails (status 2, with a message) for an unknown one.
workload_args() {
    local timing=(--duration "$duration" --warmup "$warmup")
    case "$1" in
        echo1) echo "echo --connections 50 --in-flight 1 --size 64 ${timing[*]}" ;;
        echo16) echo "echo --connections 50 --in-flight 16 --size 64 ${timing[*]}" ;;
        load) echo "load-test --connections 500 --size 20 ${timing[*]}" ;;
        echo1m) echo "echo --connections 4 --in-flight 1 --size 1048576 --binary ${timing[*]}" ;;
        connect) echo "connect --concurrency 64 ${timing[*]}" ;;
        *) echo "$prog: unknown workload $1" >&2; return 2 ;;
    esac
}

# workload_shape WORKLOAD: a few words on what WORKLOAD sends.
workload_shape() {
    case "$1" in
        echo1) echo "64 B text, 50 connections, 1 in flight" ;;
        echo16) echo "64 B text, 50 connections, 16 in flight" ;;
        load) echo "20 B binary, 500 connections, 1 in flight: load_test shape" ;;
        echo1m) echo "1 MiB binary, 4 connections, 1 in flight" ;;
        connect) echo "connect + handshake + close, 64 at a time" ;;
    esac
}

# load_command MODE ARGS...: sets the array `load_cmd` to ws-load MODE against the server
# on `port`, pinned to load_cpus, killed after duration + warm-up + 60 s.
load_command() {
    local limit
    limit=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", d + w + 60 }')
    local mode="$1"; shift
    local spread=()
    [ "$mode" = idle ] || spread=(--threads "$load_threads" --cpus "$load_cpus")
    load_cmd=(timeout "$limit" taskset -c "$load_cpus" "$bin/ws-load" "$mode" "127.0.0.1:$port" "$@" "${spread[@]}")
}

# count_cpus LIST: the number of cores in a taskset list ("0,2-3" -> 3).
count_cpus() {
    local n=0 part
    for part in ${1//,/ }; do
        if [[ "$part" == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
    done
    echo "$n"
}

# stats VALUES...: "median min max" of the numeric values (others, such as "failed", are
# left out); "- - -" when none is numeric.
stats() {
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR]
        }'
}
