#!/usr/bin/env bash
# Runs the Autobahn TestSuite against this project.
#
#   scripts/autobahn.sh server   wstest -m fuzzingclient against ws-server
#   scripts/autobahn.sh client   wstest -m fuzzingserver against the ws-client example
#
# Needs Python 2.7 (the suite is Python 2 only): python2.7 on PATH, or pyenv's 2.7.x.
# Creates a virtualenv under target/autobahn/ (nothing is installed globally), installs
# autobahntestsuite from PyPI into it, runs every case, prints the count of each result,
# writes the per-case results to autobahn/<mode>-results.json (committed: a regression
# shows as a diff), and exits non-zero on any FAILED case, any NON-STRICT or
# UNIMPLEMENTED case not allowed in autobahn/allowed.txt, or any case worse than the
# committed results.
set -euo pipefail

mode="${1:-}"
case "$mode" in
    server | client) ;;
    *)
        echo "usage: $0 server|client" >&2
        exit 2
        ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/autobahn"
mkdir -p "$work"

find_python2() {
    # A pyenv shim on PATH may exist without 2.7 being selected: check that it runs.
    if python2.7 -c 'import sys' > /dev/null 2>&1; then
        command -v python2.7
        return
    fi
    if command -v pyenv > /dev/null 2>&1; then
        local candidate
        for candidate in "$(pyenv root)"/versions/2.7*/bin/python2.7; do
            if [ -x "$candidate" ]; then
                echo "$candidate"
                return
            fi
        done
    fi
    return 1
}

venv="$work/venv"
if [ ! -x "$venv/bin/wstest" ]; then
    python2="$(find_python2)" || {
        echo "autobahn: Python 2.7 is required (the Autobahn TestSuite is Python 2 only)." >&2
        echo "autobahn: install it, e.g. 'pyenv install 2.7.18', or put python2.7 on PATH." >&2
        exit 1
    }
    echo "autobahn: creating a virtualenv with $python2"
    rm -rf "$venv" "$work/virtualenv"
    # virtualenv itself goes into a private directory, not into the Python install.
    "$python2" -m pip install -qq --disable-pip-version-check --target "$work/virtualenv" 'virtualenv<20.22'
    PYTHONPATH="$work/virtualenv" "$python2" -m virtualenv --quiet "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check autobahntestsuite
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
    local port="$1" tries=100
    while ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do
        tries=$((tries - 1))
        if [ "$tries" -eq 0 ]; then
            echo "autobahn: nothing listens on port $port" >&2
            return 1
        fi
        sleep 0.1
    done
}

pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2> /dev/null || true
    done
}
trap cleanup EXIT

port="$(free_port)"
reports="$work/$mode-reports"
rm -rf "$reports"
cd "$work"

if [ "$mode" = server ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ws-server-blocking --bin ws-server
    "$root/target/release/ws-server" --listen "127.0.0.1:$port" --deflate --log warn > "$work/ws-server.log" 2>&1 &
    pids+=($!)
    wait_for_port "$port"
    cat > "$work/fuzzingclient.json" << JSON
{
  "outdir": "$reports",
  "servers": [{"agent": "ws-server", "url": "ws://127.0.0.1:$port"}],
  "cases": ["*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
    echo "autobahn: running every case against ws-server on port $port"
    "$venv/bin/wstest" -m fuzzingclient -s "$work/fuzzingclient.json" > "$work/wstest.log" 2>&1 || {
        tail -20 "$work/wstest.log" >&2
        exit 1
    }
    agent=ws-server
else
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p examples --example autobahn_client
    cat > "$work/fuzzingserver.json" << JSON
{
  "url": "ws://127.0.0.1:$port",
  "outdir": "$reports",
  "cases": ["*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
    "$venv/bin/wstest" -m fuzzingserver -s "$work/fuzzingserver.json" > "$work/wstest.log" 2>&1 &
    pids+=($!)
    wait_for_port "$port"
    echo "autobahn: running every case with the ws-client example against port $port"
    "$root/target/release/examples/autobahn_client" "ws://127.0.0.1:$port" > "$work/client.log" 2>&1 || {
        tail -20 "$work/client.log" >&2
        exit 1
    }
    agent=ws-client
fi

python3 "$root/scripts/autobahn_report.py" "$reports/index.json" "$agent" \
    "$root/autobahn/$mode-results.json" "$root/autobahn/allowed.txt" "$mode"
