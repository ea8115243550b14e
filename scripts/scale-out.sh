#!/usr/bin/env bash
# Issue 15's scale-out proof, with the real components: Redis, three
# `ws-server --workers 2 --mode broadcast --redis ... --proxy-protocol` processes, HAProxy
# in front (deploy/haproxy.cfg, on ports of its own), and 300 clients through HAProxy
# (examples/scale_out.rs) that check:
#   clients land on all three; each server reports the client's own address (PROXY v2);
#   every published message reaches all 300 exactly once; kill -9 of a server: its
#   clients reconnect to the others, the others lose nothing; Redis restart: fan-out back
#   within seconds; SIGTERM: the drained server's clients get 1001, no new one lands on it.
#
# Usage: scripts/scale-out.sh [CLIENTS]   (default 300). Installs redis-server and haproxy
# from Debian's packages when missing (scripts/install-deps.sh). Everything it starts
# listens on 127.0.0.1 only and is stopped on exit (trap), whatever happens; every wait
# has a deadline. Exit status: 0 all properties hold; 1 one failed (the line says which);
# 3 the ws-server binary lacks a flag this proof needs (the line names it).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=${1:-300}
work=$(mktemp -d "${TMPDIR:-/tmp}/scale-out.XXXXXX")
pids=()

cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -f "$work/redis.pid" ]; then
        kill -KILL "$(cat "$work/redis.pid")" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*.log; do
            [ -f "$log" ] || continue
            echo "---- last lines of $(basename "$log")"
            tail -n 15 "$log"
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT INT TERM

# A free TCP port on 127.0.0.1 (bound then released; the kernel does not hand it out
# again at once).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for something to listen on 127.0.0.1:$1.
wait_port() {
    local deadline=$((SECONDS + $2))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "scale-out: FAIL nothing listens on 127.0.0.1:$1 after $2 s" >&2
            return 1
        fi
        sleep 0.1
    done
}

echo "scale-out: installing what is missing (redis-server, haproxy)"
scripts/install-deps.sh redis haproxy
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)

echo "scale-out: building ws-server and the client program (debug profile: 300 clients need no more, and it shares the test build)"
cargo build -q -p ws-server-blocking --features cli --bin ws-server
cargo build -q -p examples --example scale_out
server=target/debug/ws-server
driver=target/debug/examples/scale_out

# The flags this proof uses. Without --proxy-protocol nothing can run; without --workers
# each server runs one loop; without --redis the servers fan out only to their own clients,
# and the properties that need Redis are reported as NOT RUN (exit status 3).
help=$("$server" --help)
has() { grep -q -- "$1" <<<"$help"; }
if ! has --proxy-protocol; then
    echo "scale-out: MISSING ws-server has no --proxy-protocol: the proof cannot run" >&2
    exit 3
fi
extra=()
fanout=redis
missing=()
if has --workers; then
    extra+=(--workers 2)
else
    echo "scale-out: MISSING ws-server has no --workers: each server runs one loop" >&2
    missing+=(--workers)
fi
if ! has --redis; then
    echo "scale-out: MISSING ws-server has no --redis: fan-out stays within each server" >&2
    fanout=local
    missing+=(--redis)
fi

redis_port=$(free_port)
redis_start="redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no \
--daemonize yes --pidfile $work/redis.pid --logfile $work/redis.log"
echo "scale-out: redis-server on 127.0.0.1:$redis_port"
sh -c "$redis_start"
wait_port "$redis_port" 10

server_args=()
haproxy_env=()
for i in 1 2 3; do
    port=$(free_port)
    redis_arg=()
    [ "$fanout" = redis ] && redis_arg=(--redis "redis://127.0.0.1:$redis_port/")
    "$server" --listen "127.0.0.1:$port" --mode broadcast --proxy-protocol \
        --handshake-timeout 5 --log info "${extra[@]}" "${redis_arg[@]}" \
        >"$work/ws$i.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    echo "scale-out: ws$i on 127.0.0.1:$port (pid $pid)"
    wait_port "$port" 20
    server_args+=(--server "ws$i=127.0.0.1:$port=$pid=$work/ws$i.log")
    haproxy_env+=("WS_SERVER$i=127.0.0.1:$port")
done

# Does ws-server answer HAProxy's health check (a PROXY header, then GET /healthz)?
health=$({ exec 3<>"/dev/tcp/127.0.0.1/${haproxy_env[0]##*:}" &&
    printf 'PROXY UNKNOWN\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
    timeout 5 head -c 12 <&3; } 2>/dev/null || true)
config=deploy/haproxy.cfg
if [ "$health" != "HTTP/1.1 200" ]; then
    echo "scale-out: MISSING ws-server does not answer GET /healthz with 200 (got '$health'):" \
        "HAProxy checks with TCP connects instead of HTTP (a copy of deploy/haproxy.cfg)" >&2
    config=$work/haproxy-tcpcheck.cfg
    missing+=(/healthz)
    sed -e '/^ *option httpchk/d' -e '/^ *http-check/d' deploy/haproxy.cfg >"$config"
fi

lb_port=$(free_port)
env WS_LB_BIND="127.0.0.1:$lb_port" "${haproxy_env[@]}" \
    "$haproxy" -db -f "$config" >"$work/haproxy.log" 2>&1 &
pids+=("$!")
echo "scale-out: haproxy on 127.0.0.1:$lb_port (pid $!), $config"
wait_port "$lb_port" 10
# Two health checks a second apart mark a server up (rise 2).
sleep 3

timeout 600 "$driver" --lb "127.0.0.1:$lb_port" "${server_args[@]}" \
    --redis-pidfile "$work/redis.pid" --redis-start "$redis_start" --clients "$clients" \
    --fanout "$fanout"
if [ ${#missing[@]} -gt 0 ]; then
    echo "scale-out: INCOMPLETE what ran passed, but without ws-server's ${missing[*]}" >&2
    exit 3
fi
