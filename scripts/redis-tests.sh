#!/usr/bin/env bash
# Runs the tests that need a real redis-server (ignored by a plain `cargo test`): the
# ws-redis bridge against Redis, and two ws-server processes fanning out through one Redis.
# Installs redis-server from Debian's packages first when it is missing. The tests start
# their own redis-server on free loopback ports (no persistence) and kill it at the end.
# Usage: scripts/redis-tests.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh redis
command -v redis-server >/dev/null || { echo "redis-tests: redis-server not on the PATH" >&2; exit 1; }

cargo test -p ws-redis "$@" -- --ignored
cargo test -p ws-server-blocking --test redis_fanout "$@" -- --ignored
