"""The client's shortcuts taken for speed behave exactly like the plain paths they stand in for.

The handler tuples of ``Smarkets``, the cached parsing of an order's tagged hex ids, and the
non-blocking ``SessionSocket`` writing more than the kernel takes at once.  No timing is
asserted anywhere.  (The protocol's shortcuts are tested in
``tests/protocol/test_fast_paths.py``.)
"""

from __future__ import annotations

import socket
import threading

import pytest

import smarkets
from smarkets.orders import Order
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload
from smarkets.protocol.framing import FrameDecoder, encode_frames
from smarkets.session_socket import SessionSocket

# -- Smarkets handlers -----------------------------------------------------------------------


def test_handlers_changed_while_dispatching_apply_from_the_next_payload(make_session, loopback):
    client = smarkets.Smarkets(make_session())
    client.login()
    seen: list[str] = []

    def late(message: object) -> None:
        seen.append("late")

    def first(message: object) -> None:
        seen.append("first")
        client.add_handler("eto.pong", late)
        client.del_handler("eto.pong", first)

    client.add_handler("eto.pong", first)
    for _ in range(2):
        loopback.send(session_payload(eto_pb2.PAYLOAD_PONG))
    client.read(2)
    assert seen == ["first", "late"]
    client.del_handler("eto.pong", late)
    with pytest.raises(smarkets.UnknownHandlerError):
        client.del_handler("eto.pong", late)


# -- orders --------------------------------------------------------------------------------------


def test_text_ids_give_fresh_messages_and_errors_every_time() -> None:
    one = Order(market="fc024", contract="1cccc")
    two = Order(market="fc024", contract="1cccc")
    assert one.market == two.market == seto_pb2.Uuid128(low=0xF)
    assert one.market is not two.market
    one.market.low = 3  # a script's change to one order's id stays with that order
    assert two.market.low == 0xF
    big = Order(market=f"{1 << 100:x}c024")
    assert (big.market.low, big.market.high) == (0, 1 << 36)
    for _ in range(2):
        with pytest.raises(smarkets.InvalidIdError):
            Order(market="1cccc")


# -- SessionSocket: a write the kernel cannot take at once ----------------------------------------


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_a_large_write_to_a_slow_reader_completes(tls: bool, request) -> None:
    """More than the kernel takes at once: sent in parts as the peer reads, then echoed."""
    payloads = [bytes([n % 251]) * 60_000 for n in range(100)]  # ~6 MB
    size = len(encode_frames(payloads))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        overrides: dict = {"ssl": False}
        if tls:
            ca_file = request.getfixturevalue("ca_file")
            overrides = {"ssl": True, "ssl_kwargs": {"ca_file": str(ca_file)}}
        settings = smarkets.SessionSettings(
            "alice", "pw", host="127.0.0.1", port=listener.getsockname()[1], **overrides
        )
        received = bytearray()
        context = request.getfixturevalue("server_ssl_context") if tls else None

        def serve() -> None:
            raw, _ = listener.accept()
            with raw:
                conn = context.wrap_socket(raw, server_side=True) if context else raw
                while len(received) < size:
                    data = conn.recv(65536)
                    if not data:
                        break
                    received.extend(data)
                conn.sendall(encode_frames(payloads[:3]))  # and back, over the same socket
                conn.recv(1)  # until the client closes

        server = threading.Thread(target=serve)
        server.start()
        client = SessionSocket(settings)
        try:
            client.connect()
            client.send_data(encode_frames(payloads))
            echoed: list[bytes] = []
            frames_of = FrameDecoder().feed
            while len(echoed) < 3:
                assert client.wait_readable(10)
                echoed += frames_of(client.recv_data())
        finally:
            client.close()
            server.join(10)
    assert FrameDecoder().feed(bytes(received)) == payloads
    assert echoed == payloads[:3]


def test_a_write_nobody_reads_times_out_and_closes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        settings = smarkets.SessionSettings(
            "alice",
            "pw",
            host="127.0.0.1",
            port=listener.getsockname()[1],
            ssl=False,
            socket_timeout=0.2,
        )
        client = SessionSocket(settings)
        client.connect()
        server, _ = listener.accept()
        with server:
            with pytest.raises(smarkets.SocketTimeout, match="timed out writing to 127.0.0.1"):
                for _ in range(1000):  # until the kernel's buffers are full
                    client.send_data(b"x" * 1_000_000)
        assert not client.connected
