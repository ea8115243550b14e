#!/usr/bin/env bash
# CPU time (user and system, as the kernel accounts it in /proc/PID/stat) that one server
# spends per connect + handshake + close cycle, kernel work included: the per-core cost
# that a rate measured on a shared machine blurs, since it does not depend on how much
# CPU the server got, only on what each connection cost it.
#
#   bash benches/cpu-per-connection.sh [SERVER...]     # default: ws ws-tokio fastwebsockets
#
# SERVER: ws | ws-tokio | fastwebsockets | tokio-websockets | tungstenite. Knobs: DURATION
# (s of ws-load connect, default 3), ROUNDS (default 3: every server once per round, the
# median printed), CONCURRENCY (default 64), WS_SERVER_BIN and WS_TOKIO_BIN (other builds,
# for before/after). The clock tick is 10 ms: with 40,000 cycles at 12 us, about 2%.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
duration="${DURATION:-3}"
rounds="${ROUNDS:-3}"
concurrency="${CONCURRENCY:-64}"
bin="$root/target/release"
read -r -a servers <<< "${*:-ws ws-tokio fastwebsockets}"
tick=$(getconf CLK_TCK)
port=$((30000 + $$ % 2000))

one() { # one SERVER: prints microseconds of CPU per cycle, or "failed"
    port=$((port + 1))
    while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
    local addr="127.0.0.1:$port" cmd
    case "$1" in
        ws) cmd=("${WS_SERVER_BIN:-$bin/ws-server}" --listen "$addr" --log off --silence-max 0) ;;
        ws-tokio) cmd=("${WS_TOKIO_BIN:-$bin/examples/tokio_echo_server}" "$addr") ;;
        fastwebsockets) cmd=("$bin/fastwebsockets-echo" "$addr" --threads 1) ;;
        tokio-websockets) cmd=("$bin/tokio-websockets-echo" "$addr" --threads 1) ;;
        tungstenite) cmd=("$bin/tungstenite-echo" "$addr") ;;
        *) echo "cpu-per-connection: unknown server $1" >&2; exit 2 ;;
    esac
    "${cmd[@]}" > /dev/null 2>&1 &
    local pid=$!
    local up=0
    for _ in $(seq 200); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then up=1; break; fi
        sleep 0.05
    done
    if [ "$up" = 0 ]; then
        kill "$pid" 2> /dev/null || true
        echo "cpu-per-connection: $1 did not listen within 10 s" >&2
        echo failed
        return
    fi
    local before after out
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    out=$(timeout $((duration + 60)) "$bin/ws-load" connect "$addr" --concurrency "$concurrency" \
        --duration "$duration" --warmup 0 | awk '/^RESULT/')
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    # The cycles ws-load completed, errors left out (a failed cycle costs the server too).
    awk -v out="$out" -v d="$duration" -v t="$tick" -v c=$((after - before)) 'BEGIN {
        split(out, f, /[ =]/); rate = f[3]; errors = f[5]
        if (rate <= 0 || errors > 0) { print "failed"; exit }
        printf "%.2f\n", c / t / (rate * d) * 1e6 }'
}

declare -A results
for round in $(seq "$rounds"); do
    for server in "${servers[@]}"; do
        value=$(one "$server")
        results[$server]+="$value "
        echo "cpu-per-connection round $round: $server $value" >&2
    done
done
echo "| server | CPU per connection, user + system (us), median of $rounds | rounds |"
echo "|---|---|---|"
for server in "${servers[@]}"; do
    median=$(echo "${results[$server]}" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "| $server | $median | ${results[$server]% } |"
done
