"""The shortcuts taken for speed behave exactly like the plain paths they stand in for.

Serialising a fan-out payload once (``serialize_once`` + ``SessionCore.send_serialized``),
the seq carried by ``Received``, the handler tuples of ``Smarkets``, the cached parsing of
an order's tagged hex ids, framing a batch in one join (``encode_frames``), and the
non-blocking ``SessionSocket`` writing more than the kernel takes at once.  No timing is
asserted anywhere.
"""

from __future__ import annotations

import socket
import threading

import pytest

import smarkets
from smarkets.errors import ProtocolError
from smarkets.orders import Order
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    LoggedIn,
    LoginRequested,
    Received,
    ReplayStore,
    Role,
    SessionCore,
    SessionState,
    serialize_once,
    session_payload,
)
from smarkets.protocol.framing import FrameDecoder, encode_frame, encode_frames
from smarkets.session_socket import SessionSocket


def logged_in_pair() -> tuple[SessionCore, SessionCore]:
    client = SessionCore(Role.CLIENT, SessionState(), now=0.0)
    server = SessionCore(Role.SERVER, now=0.0)
    client.login(seto_pb2.Login(username="u", password="p"), 0.0)
    events = server.receive_payloads(client.payloads_to_send(), 0.0)
    assert isinstance(events[0], LoginRequested)
    server.accept_login(SessionState(session_id="a9999", sent=ReplayStore(limit=100)), 0.0)
    events = client.receive_payloads(server.payloads_to_send(), 0.0)
    assert any(isinstance(event, LoggedIn) for event in events)
    return client, server


def quotes(price: int = 4500) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    cq = payload.contract_quotes
    cq.contract.low = 1
    cq.market.low = 1
    cq.bids.add(price=price, quantity=1000)
    cq.volume = 7
    return payload


# -- send_serialized -----------------------------------------------------------------------


@pytest.mark.parametrize("sent_before", [0, 125, 126, 20_000])
def test_send_serialized_is_what_send_would_have_sent(sent_before: int) -> None:
    """Across seqs of 1, 2 and 3 varint bytes, the peer parses the very same payload."""
    _, plain = logged_in_pair()
    _, fast = logged_in_pair()
    for _ in range(sent_before):
        plain.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)
        fast.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)
    plain.payloads_to_send()
    fast.payloads_to_send()
    seq = plain.send(quotes(), 0.0)
    assert fast.send_serialized(serialize_once(quotes()), 0.0) == seq
    (expected,) = plain.payloads_to_send()
    (got,) = fast.payloads_to_send()
    assert seto_pb2.Payload.FromString(got) == seto_pb2.Payload.FromString(expected)
    assert fast.outseq == plain.outseq == seq + 1


def test_one_body_numbered_for_each_session_and_received_in_order() -> None:
    pairs = [logged_in_pair() for _ in range(3)]
    pairs[1][1].send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)  # another numbering
    for price in (4500, 4400):
        body = serialize_once(quotes(price))
        for _, server in pairs:
            server.send_serialized(body, 0.0)
    for client, server in pairs:
        events = client.receive_payloads(server.payloads_to_send(), 0.0)
        received = [
            e
            for e in events
            if isinstance(e, Received) and e.payload.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES
        ]
        prices = [e.payload.contract_quotes.bids[0].price for e in received]
        assert prices == [4500, 4400]
        assert [e.seq for e in received] == [e.payload.eto_payload.seq for e in received]
        assert client.inseq == server.outseq


def test_a_serialized_payload_is_replayed_as_a_replay() -> None:
    client, server = logged_in_pair()
    seq = server.send_serialized(serialize_once(quotes()), 0.0)
    server.payloads_to_send()  # lost on the way
    server.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)
    client.receive_payloads(server.payloads_to_send(), 0.0)  # the gap: asks for a replay
    server.receive_payloads(client.payloads_to_send(), 0.0)
    events = client.receive_payloads(server.payloads_to_send(), 0.0)
    (replayed,) = [e for e in events if isinstance(e, Received)]
    assert replayed.seq == seq
    assert replayed.payload.eto_payload.is_replay
    assert replayed.payload.contract_quotes.bids[0].price == 4500


def test_send_serialized_when_detached_or_not_logged_in() -> None:
    _, server = logged_in_pair()
    parked = SessionCore.detached(Role.SERVER, server.session, now=0.0)
    seq = parked.send_serialized(serialize_once(quotes()), 0.0)
    assert parked.payloads_to_send() == []
    assert [s for s, _ in server.session.sent.since(seq)] == [seq]
    fresh = SessionCore(Role.SERVER, now=0.0)
    with pytest.raises(ProtocolError, match="cannot send"):
        fresh.send_serialized(serialize_once(quotes()), 0.0)


def test_serialize_once_refuses_a_payload_missing_required_fields() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    payload.contract_quotes.volume = 1  # no contract
    with pytest.raises(ProtocolError, match="cannot encode"):
        serialize_once(payload)


def test_received_carries_the_seq() -> None:
    client, server = logged_in_pair()
    seqs = [server.send(quotes(), 0.0) for _ in range(3)]
    events = client.receive_payloads(server.payloads_to_send(), 0.0)
    assert [e.seq for e in events if isinstance(e, Received)] == seqs
    assert Received(quotes()).seq is None  # made by hand


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


# -- framing --------------------------------------------------------------------------------------


def test_encode_frames_is_the_frames_joined() -> None:
    payloads = [b"", b"a", b"ab", b"abc", b"x" * 127, b"y" * 128, b"z" * 300]
    payloads += [bytearray(b"\x08\x01"), memoryview(b"\x0a\x0b\x0c")]
    assert encode_frames(payloads) == b"".join(encode_frame(p) for p in payloads)
    assert FrameDecoder().feed(encode_frames(payloads)) == [bytes(p) for p in payloads]
    assert encode_frames([]) == b""


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
            client.send_payloads(payloads)
            echoed: list[bytes] = []
            while len(echoed) < 3:
                assert client.wait_readable(10)
                echoed += client.recv_payloads()
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
                    client.send_payloads([b"x" * 1_000_000])
        assert not client.connected
