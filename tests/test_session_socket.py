"""Unit tests of SessionSocket against bare local sockets (127.0.0.1, port 0).

SessionSocket only moves bytes: frames are the protocol connection's (tests/protocol/),
and what a close in the middle of a frame or an oversized frame means is the session's
(tests/integration/test_client_errors.py).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import smarkets
from smarkets.protocol.framing import encode_frame
from smarkets.session_socket import SessionSocket


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.settimeout(5)
        yield sock


def settings_for(sock: socket.socket, **overrides) -> smarkets.SessionSettings:
    values = {"host": "127.0.0.1", "port": sock.getsockname()[1], "ssl": False}
    values.update(overrides)
    values.setdefault("socket_timeout", 5.0)
    return smarkets.SessionSettings("alice", "pw", **values)


@pytest.fixture
def pair(listener) -> Iterator[tuple[SessionSocket, socket.socket]]:
    """A connected SessionSocket (plain TCP) and the server's end of it."""
    client = SessionSocket(settings_for(listener, socket_timeout=0.2))
    client.connect()
    server, _ = listener.accept()
    with server:
        yield client, server
    client.close()


def test_not_connected() -> None:
    sock = SessionSocket(smarkets.SessionSettings("alice", "pw", port=1))
    assert not sock.connected
    assert sock.fileno() == -1
    assert "not connected" in repr(sock)
    with pytest.raises(smarkets.SocketError, match="not connected to localhost:1"):
        sock.send_data(b"x")
    with pytest.raises(smarkets.SocketError):
        sock.recv_data()
    sock.close()  # harmless


def test_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    sock = SessionSocket(smarkets.SessionSettings("a", "p", host="127.0.0.1", port=port, ssl=False))
    with pytest.raises(
        smarkets.ConnectError, match=f"cannot connect to 127.0.0.1:{port}"
    ) as caught:
        sock.connect()
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)
    assert not sock.connected


def test_round_trip_and_options(pair) -> None:
    client, server = pair
    assert client.connected and client.fileno() >= 0
    assert client._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    # Non-blocking: SessionSocket does the waiting, up to socket_timeout (test_timeout).
    assert client._sock.gettimeout() == 0.0
    expected = encode_frame(b"\x08\x01") + encode_frame(b"") + encode_frame(b"abc" * 100)
    client.send_data(expected)
    client.send_data(b"")  # nothing to write: nothing written
    received = b""
    while len(received) < len(expected):
        received += server.recv(65536)
    assert received == expected
    server.sendall(b"hello, in any split")
    assert client.wait_readable(5)
    data = b""
    while len(data) < 19:
        data += client.recv_data()
    assert data == b"hello, in any split"
    assert not client.wait_readable(0)


def test_reads_return_what_arrived(pair) -> None:
    client, server = pair
    server.sendall(b"ab")
    assert client.recv_data() == b"ab"  # whatever arrived, frames or not
    server.sendall(b"c" * 1000)
    data = b""
    while len(data) < 1000:
        data += client.recv_data()
    assert data == b"c" * 1000


def test_read_chunksize_bounds_one_read(listener) -> None:
    client = SessionSocket(settings_for(listener, read_chunksize=7))
    client.connect()
    server, _ = listener.accept()
    with server:
        server.sendall(b"x" * 20)
        assert client.wait_readable(5)
        assert client.recv_data() == b"x" * 7
    client.close()


def test_clean_close_reads_nothing_and_closes(pair) -> None:
    client, server = pair
    server.close()
    assert client.wait_readable(5)
    assert client.recv_data() == b""
    assert not client.connected


def test_timeout(pair) -> None:
    client, _server = pair
    with pytest.raises(smarkets.SocketTimeout, match="127.0.0.1") as caught:
        client.recv_data()
    assert isinstance(caught.value, TimeoutError)
    assert client.connected  # a quiet peer does not break the connection


def test_connect_twice_is_a_no_op(pair) -> None:
    client, _server = pair
    fileno = client.fileno()
    client.connect()
    assert client.fileno() == fileno


# -- TLS ---------------------------------------------------------------------------------


def serve_tls(listener: socket.socket, context: ssl.SSLContext, results: list) -> threading.Thread:
    def run() -> None:
        raw, _ = listener.accept()
        try:
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.sendall(encode_frame(b"over tls"))
                tls.recv(100)
        except (ssl.SSLError, OSError) as exc:
            results.append(exc)
        finally:
            raw.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_tls_verified(listener, server_ssl_context, ca_file: Path) -> None:
    thread = serve_tls(listener, server_ssl_context, [])
    client = SessionSocket(settings_for(listener, ssl=True, ssl_kwargs={"ca_file": str(ca_file)}))
    client.connect()
    assert isinstance(client._sock, ssl.SSLSocket)
    assert client._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    data = b""
    frame = encode_frame(b"over tls")
    while len(data) < len(frame):
        data += client.recv_data()
    assert data == frame
    client.close()
    thread.join(5)


def test_tls_untrusted(listener, untrusted_ssl_context, ca_file: Path) -> None:
    thread = serve_tls(listener, untrusted_ssl_context, [])
    client = SessionSocket(settings_for(listener, ssl=True, ssl_kwargs={"ca_file": str(ca_file)}))
    with pytest.raises(smarkets.TLSError, match="certificate not trusted"):
        client.connect()
    assert not client.connected
    thread.join(5)


def test_tls_host_name_mismatch(listener, wrong_host_ssl_context, ca_file: Path) -> None:
    thread = serve_tls(listener, wrong_host_ssl_context, [])
    client = SessionSocket(settings_for(listener, ssl=True, ssl_kwargs={"cafile": str(ca_file)}))
    with pytest.raises(smarkets.TLSError, match="127.0.0.1"):
        client.connect()
    thread.join(5)


def test_tls_bad_ca_file(listener, tmp_path: Path) -> None:
    client = SessionSocket(
        settings_for(listener, ssl=True, ssl_kwargs={"ca_file": str(tmp_path / "missing.pem")})
    )
    with pytest.raises(smarkets.TLSError, match="cannot load"):
        client.connect()
    assert not client.connected
