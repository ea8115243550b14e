#!/usr/bin/env bash
# Runs the Autobahn TestSuite against this project.
#
#   scripts/autobahn.sh server         wstest -m fuzzingclient against ws-server
#   scripts/autobahn.sh client         wstest -m fuzzingserver against the ws-client example
#   scripts/autobahn.sh tokio-server   wstest -m fuzzingclient against the tokio_echo_server example
#   scripts/autobahn.sh tokio-client   wstest -m fuzzingserver against the tokio_autobahn_client example
#
# Needs Python 2.7 (the suite is Python 2 only): python2.7 on PATH, or pyenv's 2.7.x.
# Creates a virtualenv under target/autobahn/ (nothing is installed globally), installs
# autobahntestsuite from PyPI into it, runs every case (in two shards at once, as two
# wstest processes against one ws-server, or two clients), prints the count of each result,
# writes the per-case results to autobahn/<mode>-results.json (committed: a regression
# shows as a diff), and exits non-zero on any FAILED case, any NON-STRICT or
# UNIMPLEMENTED case not allowed in autobahn/allowed.txt, or any case worse than the
# committed results.
set -euo pipefail

mode="${1:-}"
case "$mode" in
    server | client | tokio-server | tokio-client) ;;
    *)
        echo "usage: $0 server|client|tokio-server|tokio-client" >&2
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

# Prints N distinct free ports (all bound at once, so that none repeats).
free_ports() {
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

wait_for_port() {
    local port="$1" pid="$2" tries=600
    while ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do
        if ! kill -0 "$pid" 2> /dev/null; then
            echo "autobahn: the process meant to listen on port $port has exited" >&2
            return 1
        fi
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

# The cases run in two shards at once, one per core: wstest (Python) spends more time per
# case than either of our programs, so one sequential run leaves a core idle. The split
# balances the compression cases (12.*, 13.*), which take nearly all of the time.
shard_b='"12.5.*", "13.2.*", "13.3.*", "13.4.*", "13.5.*", "13.6.*", "13.7.*"'
shard_cases=('"cases": ["*"], "exclude-cases": ['"$shard_b"']' '"cases": ['"$shard_b"'], "exclude-cases": []')

# Reports the CPU seconds a process has used so far (Linux /proc, else nothing).
cpu_seconds() {
    local stat
    stat="$(cat "/proc/$1/stat" 2> /dev/null)" || return 0
    set -- ${stat##*) }
    echo "$(((${12} + ${13}) / $(getconf CLK_TCK))) s"
}

# Waits for each shard's process (PID LOG pairs); a failure shows the end of its log.
wait_shards() {
    while [ $# -gt 0 ]; do
        wait "$1" || {
            tail -20 "$2" >&2
            exit 1
        }
        shift 2
    done
}

reports=()
rm -rf "$work/$mode"-reports*
cd "$work"
start=$SECONDS

if [ "$mode" = server ] || [ "$mode" = tokio-server ]; then
    port="$(free_ports 1)"
    if [ "$mode" = server ]; then
        cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ws-server-blocking --features cli --bin ws-server
        agent=ws-server
        "$root/target/release/ws-server" --listen "127.0.0.1:$port" --deflate --log warn > "$work/$agent.log" 2>&1 &
    else
        cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p examples --example tokio_echo_server
        agent=ws-tokio
        "$root/target/release/examples/tokio_echo_server" "127.0.0.1:$port" > "$work/$agent.log" 2>&1 &
    fi
    server_pid=$!
    pids+=("$server_pid")
    wait_for_port "$port" "$server_pid"
    echo "autobahn: running every case against $agent on port $port, in two shards"
    shards=()
    for i in 0 1; do
        reports+=("$work/$mode-reports-$i")
        cat > "$work/fuzzingclient-$i.json" << JSON
{
  "outdir": "${reports[$i]}",
  "servers": [{"agent": "$agent", "url": "ws://127.0.0.1:$port"}],
  ${shard_cases[$i]},
  "exclude-agent-cases": {}
}
JSON
        "$venv/bin/wstest" -m fuzzingclient -s "$work/fuzzingclient-$i.json" > "$work/wstest-$i.log" 2>&1 &
        shards+=($! "$work/wstest-$i.log")
        pids+=($!)
    done
    wait_shards "${shards[@]}"
    echo "autobahn: $agent used $(cpu_seconds "$server_pid") of CPU"
else
    if [ "$mode" = client ]; then
        example=autobahn_client
        agent=ws-client
    else
        example=tokio_autobahn_client
        agent=ws-tokio
    fi
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p examples --example "$example"
    echo "autobahn: running every case with the $example example, in two shards"
    read -r -a ports <<< "$(free_ports 2)"
    servers=()
    for i in 0 1; do
        reports+=("$work/$mode-reports-$i")
        cat > "$work/fuzzingserver-$i.json" << JSON
{
  "url": "ws://127.0.0.1:${ports[$i]}",
  "outdir": "${reports[$i]}",
  ${shard_cases[$i]},
  "exclude-agent-cases": {}
}
JSON
        # --webport 0: no report web server (it would want port 8080, in each shard).
        "$venv/bin/wstest" -m fuzzingserver --webport 0 -s "$work/fuzzingserver-$i.json" \
            > "$work/wstest-$i.log" 2>&1 &
        servers+=($!)
        pids+=($!)
    done
    clients=()
    for i in 0 1; do
        wait_for_port "${ports[$i]}" "${servers[$i]}" || {
            tail -5 "$work/wstest-$i.log" >&2
            exit 1
        }
        "$root/target/release/examples/$example" "ws://127.0.0.1:${ports[$i]}" > "$work/client-$i.log" 2>&1 &
        clients+=($! "$work/client-$i.log")
    done
    wait_shards "${clients[@]}"
fi
echo "autobahn: cases ran in $((SECONDS - start)) s"

indexes=()
for dir in "${reports[@]}"; do
    indexes+=("$dir/index.json")
done
python3 "$root/scripts/autobahn_report.py" "$agent" "$root/autobahn/$mode-results.json" \
    "$root/autobahn/allowed.txt" "$mode" "${indexes[@]}"
