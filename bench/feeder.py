"""A stand-in exchange that streams payloads to a real client, for parts 2 and 5.

Run as ``feeder.py --count N [--lazy]``: listens on 127.0.0.1 (a free port, printed as
``port P``), and for each connection, one after the other: does the server side of the
login with a real :class:`~smarkets.protocol.connection.Connection` (any credentials), then
writes the market_quotes snapshot a subscription starts with (seq 2; so that a client that
keeps order books applies every update, as a subscribed client does), then N application
payloads (the receive benchmark's mix of contract_quotes and order_executed, seqs 3 ..
N+2) as fast as the socket takes them, then waits for the client to close. It exits when
its stdin closes.

By default all N payloads are numbered and framed before the first connection, so that
while the client is timed this process does nothing but ``sendall`` (it cannot be the
bottleneck). ``--lazy`` numbers them in batches as it goes instead, for runs too long to
hold in memory (the memory benchmark; there the client's speed is not a target).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time

from smarkets.protocol import Connection, LoginRequested, ReplayStore, Role, SessionState

# isort: split
from common import (
    chunked,
    frame_stream,
    logged_in_pair,
    market_snapshot,
    numbered,
    receive_mix,
    templates,
)

BATCH = 2048
TEMPLATES = 500


def _exit_on_stdin_eof() -> None:
    while sys.stdin.buffer.read(1):
        pass
    os._exit(0)


def _login(conn: socket.socket) -> Connection:
    server = Connection(Role.SERVER, now=time.monotonic())
    while True:
        data = conn.recv(65536)
        if not data:
            raise ConnectionError("client left before logging in")
        events = server.receive_data(data, time.monotonic())
        if any(isinstance(event, LoginRequested) for event in events):
            break
    state = SessionState(session_id="feed9999", sent=ReplayStore(limit=16))
    server.accept_login(state, time.monotonic())
    conn.sendall(server.data_to_send())
    return server


def _serve(conn: socket.socket, count: int, blobs: list[bytes] | None) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = _login(conn)
    if blobs is not None:
        for blob in blobs:
            conn.sendall(blob)
    else:
        now = time.monotonic()
        server.send(market_snapshot(), now)
        conn.sendall(server.data_to_send())
        messages = templates(receive_mix, TEMPLATES)
        sent = 0
        while sent < count:
            n = min(BATCH, count - sent)
            for i in range(n):
                server.send(messages[(sent + i) % TEMPLATES], now)
            conn.sendall(server.data_to_send())
            sent += n
    while conn.recv(65536):  # heartbeats, a logout: read until the client closes
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--lazy", action="store_true")
    args = parser.parse_args()
    blobs = None
    if not args.lazy:
        _, server = logged_in_pair()
        messages = templates(receive_mix, TEMPLATES)
        payloads = numbered(server, iter([market_snapshot()]))
        payloads += numbered(server, (messages[i % TEMPLATES] for i in range(args.count)))
        blobs = chunked(frame_stream(payloads), 1 << 20)
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    print(f"port {listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                _serve(conn, args.count, blobs)
            except OSError:
                pass


if __name__ == "__main__":
    main()
