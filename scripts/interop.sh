#!/usr/bin/env bash
# Interoperability with python-websockets (which negotiates permessage-deflate by
# default), both ways: its clients against ws-server and the ws-tokio echo server, ws-client
# and the ws-tokio client against its servers.
#
#   scripts/interop.sh              the whole check
#   scripts/interop.sh --venv-only  only make the virtualenv (ws-client's lifecycle tests
#                                   use its python-websockets echo server)
#
# Needs Python 3.9 or later. Creates a virtualenv under target/interop/ (nothing is
# installed globally) with a pinned python-websockets from PyPI, then runs
# scripts/interop_websockets.py against the release binaries.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/interop"
venv="$work/venv"
websockets_version="17.4"

if ! "$venv/bin/python" -c "import websockets, sys; sys.exit(websockets.__version__ != '$websockets_version')" 2> /dev/null; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' || {
        echo "interop: Python 3.9 or later is required" >&2
        exit 1
    }
    echo "interop: creating a virtualenv with python-websockets $websockets_version"
    rm -rf "$venv"
    mkdir -p "$work"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "websockets==$websockets_version"
fi
if [[ "${1:-}" == --venv-only ]]; then
    exit 0
fi

# One package per build: cargo applies a package's `--features cli` only to the one it builds.
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ws-server-blocking --features cli --bin ws-server
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ws-client --features cli --bin ws-client
cargo build --release --quiet --manifest-path "$root/Cargo.toml" \
    -p examples --example tokio_echo_server --example tokio_client
"$venv/bin/python" "$root/scripts/interop_websockets.py" \
    "$root/target/release/ws-server" "$root/target/release/ws-client" \
    "$root/target/release/examples/tokio_echo_server" "$root/target/release/examples/tokio_client"
