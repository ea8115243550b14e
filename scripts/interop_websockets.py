"""Interoperability with python-websockets, compression included.

Usage: interop_websockets.py WS_SERVER_BINARY WS_CLIENT_BINARY [TOKIO_ECHO_SERVER TOKIO_CLIENT]
       interop_websockets.py --echo-server [--no-compression]

1. Our ws-server (started here with --deflate) against python-websockets clients offering
   permessage-deflate with every parameter combination: each must be agreed and every kind
   of message must echo unchanged, ending in a clean 1000 close.
2. Our ws-client binary against python-websockets echo servers answering with each
   parameter combination: the echo test must pass and say that it compressed.
3. Lines piped into our ws-client against a python-websockets echo server, compression on
   and off: every echo must be printed, though that server stops sending once it has our
   close (issue 11 item 5), and the exit status must be 0.

With --echo-server it only runs an echo server on 127.0.0.1, prints its port, and serves
until its stdin ends (for ws-client's own tests).

4. and 5. Checks 1 and 2 for the ws-tokio examples, when given: tokio_echo_server (which
   accepts deflate) against the clients, tokio_client --echo-test against the servers.

Exits non-zero with a message on the first failure. Run by scripts/interop.sh.
"""

import json
import os
import random
import subprocess
import sys
import threading

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.client import connect
from websockets.sync.server import serve

# python-websockets takes window sizes from 9 bits; 8 is covered by Autobahn 13.*.
PARAMETERS = [
    {},
    {"server_no_context_takeover": True, "client_no_context_takeover": True},
    {"server_max_window_bits": 9, "client_max_window_bits": 10},
    {"server_max_window_bits": 15, "client_max_window_bits": 9},
    {"server_no_context_takeover": True, "server_max_window_bits": 12},
]


def check(condition, what):
    if not condition:
        raise SystemExit("interop: FAILED: " + what)


def messages():
    """Every kind of message worth echoing: small and large, text and binary."""
    rng = random.Random(7)
    records = [{"id": i, "name": "user%d" % (i % 97), "active": i % 3 == 0} for i in range(30000)]
    yield "Hello"
    yield ""
    for n in range(1, 60, 7):
        yield json.dumps(records[:n])
    yield json.dumps(records)  # about 1.4 MiB
    yield "\u2603 snow \u00e9t\u00e9 " * 500
    yield bytes(rng.getrandbits(8) for _ in range(70000))  # incompressible
    yield b"\x00" * 100000
    yield ["fragmented ", "text ", "", "message " * 100]  # sent as fragments


def our_server_against_python_clients(command, name="ws-server"):
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = next(w for w in line.split() if w.startswith("ws://"))
        for params in PARAMETERS:
            factory = ClientPerMessageDeflateFactory(**params)
            with connect(url, extensions=[factory], compression=None, max_size=None) as ws:
                agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "")
                check(agreed.startswith("permessage-deflate"), "%s did not agree to %s: %r" % (name, params, agreed))
                for message in messages():
                    ws.send(message)
                    expected = "".join(message) if isinstance(message, list) else message
                    echoed = ws.recv(timeout=30)
                    check(echoed == expected, "%s echoed %d of %d bytes differently with %s"
                          % (name, len(echoed), len(expected), params))
                ws.close()
            check(ws.close_code == 1000, "%s closed with %s" % (name, ws.close_code))
            print("interop: python-websockets client %s -> %s: %r, echo OK" % (params or "defaults", name, agreed))
    finally:
        server.terminate()
        server.wait(timeout=10)


def echo(ws):
    for message in ws:
        ws.send(message)


def python_servers_against_our_client(ws_client, name="ws-client"):
    for params in PARAMETERS:
        factory = ServerPerMessageDeflateFactory(**params)
        with serve(echo, "127.0.0.1", 0, extensions=[factory], compression=None, max_size=None) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            port = server.socket.getsockname()[1]
            url = "ws://127.0.0.1:%d/" % port
            for extra in ([], ["--binary"]):
                out = subprocess.run(
                    [ws_client, "--echo-test", "40", "--size", "20000", *extra, url],
                    capture_output=True, text=True, timeout=60,
                )
                check(out.returncode == 0, "%s against python-websockets %s: %s" % (name, params, out.stderr.strip()))
                check(", compressed, all echoed unchanged" in out.stdout,
                      "%s did not compress with %s: %s" % (name, params, out.stdout.strip()))
            server.shutdown()
            thread.join(timeout=10)
            print("interop: %s -> python-websockets server %s: echo OK" % (name, params or "defaults"))


def piped_lines_against_python_echo(ws_client):
    for compression in ("deflate", None):
        with serve(echo, "127.0.0.1", 0, compression=compression) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            url = "ws://127.0.0.1:%d/" % server.socket.getsockname()[1]
            out = subprocess.run([ws_client, url], input="hello\nsecond line\n",
                                 capture_output=True, text=True, timeout=60)
            check(out.returncode == 0 and out.stdout == "hello\nsecond line\n",
                  "piped lines against python-websockets (compression %s): status %d, stdout %r, stderr %r"
                  % (compression, out.returncode, out.stdout, out.stderr))
            server.shutdown()
            thread.join(timeout=10)
            print("interop: lines piped into ws-client -> python-websockets (compression %s): OK" % compression)


def echo_server_until_stdin_ends(compression):
    with serve(echo, "127.0.0.1", 0, compression=compression) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.socket.getsockname()[1], flush=True)
        sys.stdin.read()


def main():
    if sys.argv[1:2] == ["--echo-server"]:
        echo_server_until_stdin_ends(None if "--no-compression" in sys.argv else "deflate")
        return
    paths = sys.argv[1:5]
    check(len(paths) in (2, 4), "usage: interop_websockets.py WS_SERVER WS_CLIENT [TOKIO_ECHO_SERVER TOKIO_CLIENT]")
    for path in paths:
        check(os.access(path, os.X_OK), "%s is not an executable" % path)
    ws_server, ws_client = paths[:2]
    our_server_against_python_clients([ws_server, "--listen", "127.0.0.1:0", "--deflate", "--log", "warn"])
    python_servers_against_our_client(ws_client)
    piped_lines_against_python_echo(ws_client)
    if len(paths) == 4:
        tokio_server, tokio_client = paths[2:]
        our_server_against_python_clients([tokio_server, "127.0.0.1:0"], "ws-tokio server")
        python_servers_against_our_client(tokio_client, "ws-tokio client")
    print("interop: all OK")


if __name__ == "__main__":
    main()
