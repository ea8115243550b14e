#!/usr/bin/env bash
# The chat's end-to-end check in real headless Chromium (issue 16's proof):
# Redis, two `ws-server --mode chat --redis ...` processes, HAProxy in front, and a
# playwright-core script (scripts/browser/chat-check.mjs) driving Debian's chromium:
# two pages on two servers talk; markup shows as text and runs nothing; after the first
# page's server is killed, that page shows "reconnecting", comes back through HAProxy on the
# other server with its draft, and chat resumes; a page from another origin is refused; the
# last server drains (SIGTERM, close 1001) and both pages say "server going away".
# It writes the screenshot docs/chat.png.
#
# Usage: scripts/browser.sh            (installs what is missing: chromium, redis-server,
#                                       haproxy from Debian's packages, playwright-core
#                                       from npm into scripts/browser/node_modules)
# Environment: CHROMIUM (default /usr/bin/chromium), SCREENSHOT (default docs/chat.png),
# KEEP=1 keeps the temporary directory with the logs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "browser.sh: $*"; }
die() { echo "browser.sh: FAILED: $*" >&2; exit 1; }

scripts/install-deps.sh chromium redis haproxy
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (apt-get install nodejs npm)"
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || die "no chromium at $chromium"

say "installing playwright-core (scripts/browser/package-lock.json)"
(cd scripts/browser && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in scripts/browser"

say "building ws-server"
cargo build -q -p ws-server-blocking --features cli --bin ws-server || die "cargo build"
ws_server="$root/target/debug/ws-server"
"$ws_server" --help | grep -q -- '--redis' ||
    die "this ws-server has no --redis flag (issue 15's Redis broker): two servers could not share rooms"

say "two chat processes through a real redis-server, without a browser (the ignored tests)"
cargo test -q -p ws-server-blocking --test chat -- --ignored || die "cargo test --test chat -- --ignored"

tmp=$(mktemp -d /tmp/chat-browser.XXXXXX)
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ] || [ "${KEEP:-}" = 1 ]; then
        say "logs kept in $tmp"
        for log in "$tmp"/*.log; do
            [ -s "$log" ] || continue
            echo "--- $log (last 20 lines)"
            tail -n 20 "$log"
        done
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port, as the kernel hands one out.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for WHAT SECONDS COMMAND...: runs COMMAND until it succeeds, or fails the check.
wait_for() {
    local what=$1 secs=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "no $what within ${secs} s"
        sleep 0.1
    done
}

redis_port=$(free_port)
say "starting redis-server on 127.0.0.1:$redis_port"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
pids+=($!)
wait_for "answer from redis-server" 10 redis-cli -p "$redis_port" ping

servers=()
server_pids=()
server_logs=()
for n in 1 2; do
    "$ws_server" --mode chat --listen 127.0.0.1:0 --redis "redis://127.0.0.1:$redis_port/" \
        --chat-presence-every 2 --drain-grace 0 >"$tmp/ws-server-$n.out" 2>"$tmp/ws-server-$n.log" &
    pid=$!
    pids+=("$pid")
    server_pids+=("$pid")
    server_logs+=("$tmp/ws-server-$n.log")
    wait_for "listening line from ws-server $n (see $tmp/ws-server-$n.log)" 10 grep -q 'listening on ws://' "$tmp/ws-server-$n.out"
    addr=$(grep -o 'ws://[^/ ]*' "$tmp/ws-server-$n.out" | head -1)
    servers+=("${addr#ws://}")
    say "ws-server $n (pid $pid) on ${addr#ws://}"
done

front_port=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
# The chat behind HAProxy: long-lived WebSocket tunnels, least connections, health checks.
global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # An upgraded connection is a tunnel: idle up to this long (pings come every 10 s).
    timeout tunnel 1h
    # A refused connection is retried, on another server (redispatch every retry).
    retries 3
    option redispatch 1
frontend chat
    bind 127.0.0.1:$front_port
    default_backend servers
backend servers
    balance leastconn
    # The page itself is the health check: 200 while the server serves the chat (a
    # draining server closes its listener, and the check fails).
    option httpchk GET /
    default-server check inter 500ms fall 2 rise 2
    server s1 ${servers[0]}
    server s2 ${servers[1]}
EOF
say "starting haproxy on 127.0.0.1:$front_port"
"$haproxy" -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 &
pids+=($!)
page_up() { curl -fsS -o /dev/null "http://127.0.0.1:$front_port/"; }
wait_for "chat page through haproxy (see $tmp/haproxy.log)" 15 page_up
# Both servers up in HAProxy's eyes, so that the two pages are spread over them.
both_up() {
    local n
    for n in 1 2; do
        curl -fsS -o /dev/null "http://${servers[$((n - 1))]}/" || return 1
    done
    sleep 1.5
}
wait_for "health of both servers" 15 both_up

say "running the browser check"
CHAT_URL="http://127.0.0.1:$front_port/" \
SERVER_PIDS="${server_pids[*]}" \
SERVER_LOGS="${server_logs[*]}" \
SCREENSHOT="${SCREENSHOT:-$root/docs/chat.png}" \
CHROMIUM="$chromium" \
    timeout 180 node scripts/browser/chat-check.mjs || die "the browser check (above)"
say "passed"
