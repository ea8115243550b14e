#!/usr/bin/env bash
# Fan-out deliveries per second: one ws-server process with 201 subscribers, then three
# processes (67 subscribers each) through one redis-server; rough on a small machine.
# Usage: bash benches/fanout-redis.sh   (needs redis-server: scripts/install-deps.sh redis)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p ws-server-blocking --features cli --bin ws-server -p benches --bin ws-load
B=target/release
rp=46379
redis-server --port $rp --bind 127.0.0.1 --save '' --appendonly no --daemonize no > ${TMPDIR:-/tmp}/fanout-redis-redis.log 2>&1 &
rpid=$!
sleep 0.5
pids=()
trap 'kill ${pids[@]} $rpid 2>/dev/null || true' EXIT
for i in 1 2 3; do
  $B/ws-server -l 127.0.0.1:$((39100+i)) --mode broadcast --silence-max 0 --log off --redis redis://127.0.0.1:$rp/ > ${TMPDIR:-/tmp}/fanout-redis-ws$i.log 2>&1 &
  pids+=($!)
done
sleep 1
echo "== one process (server 1), 201 subscribers"
$B/ws-load fanout 127.0.0.1:39101 --receivers 200 --size 32 --window 32 --duration 5 2>&1 | tail -3
sleep 1
echo "== three processes through Redis, 67 subscribers each (A publishes, B and C count)"
$B/ws-load fanout 127.0.0.1:39102 --receivers 66 --size 32 --window 0 --duration 6 > ${TMPDIR:-/tmp}/fanout-redis-b.txt 2>&1 &
b=$!
$B/ws-load fanout 127.0.0.1:39103 --receivers 66 --size 32 --window 0 --duration 6 > ${TMPDIR:-/tmp}/fanout-redis-c.txt 2>&1 &
c=$!
sleep 0.5
$B/ws-load fanout 127.0.0.1:39101 --receivers 66 --size 32 --window 32 --duration 5 2>&1 | tail -3
wait $b $c || true
echo "-- B:"; tail -3 ${TMPDIR:-/tmp}/fanout-redis-b.txt; echo "-- C:"; tail -3 ${TMPDIR:-/tmp}/fanout-redis-c.txt
