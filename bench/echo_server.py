"""The round-trip baseline's peer: a TCP echo server in its own Python process.

Run as ``echo_server.py``: listens on 127.0.0.1 (a free port, printed as ``port P``), serves
connections one after the other with ``TCP_NODELAY`` on, writing back every byte it reads,
at once, with the same blocking ``recv``/``sendall`` calls a Python server would use. It
exits when its stdin closes.
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def _exit_on_stdin_eof() -> None:
    while sys.stdin.buffer.read(1):
        pass
    os._exit(0)


def main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    print(f"port {listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass


if __name__ == "__main__":
    main()
