"""The protocol's shortcuts taken for speed behave exactly like the plain paths they stand in for.

Serialising a fan-out payload once (``serialize_once`` + ``SessionCore.send_serialized``),
the seq carried by ``Received``, framing a batch in one join (``encode_frames``).  No timing
is asserted anywhere.  (The client's own shortcuts are tested in ``tests/test_fast_paths.py``.)
"""

from __future__ import annotations

import gc

import pytest

from smarkets.errors import ProtocolError, RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Received,
    ReplayStore,
    Role,
    SessionCore,
    SessionState,
    decode_payload,
    decode_payloads,
    serialize_once,
    session_payload,
)
from smarkets.protocol.framing import FrameDecoder, encode_frame, encode_frames
from smarkets.protocol.testing import ConnectedPair


def logged_in_pair() -> ConnectedPair:
    pair = ConnectedPair()
    pair.log_in(SessionState(session_id="a9999", sent=ReplayStore(limit=100)))
    return pair


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
    plain = logged_in_pair().server
    fast = logged_in_pair().server
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
    pairs[1].server.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)  # another numbering
    for price in (4500, 4400):
        body = serialize_once(quotes(price))
        for pair in pairs:
            pair.server.send_serialized(body, 0.0)
    for pair in pairs:
        events = pair.to_client()
        received = [
            e
            for e in events
            if isinstance(e, Received) and e.payload.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES
        ]
        prices = [e.payload.contract_quotes.bids[0].price for e in received]
        assert prices == [4500, 4400]
        assert [e.seq for e in received] == [e.payload.eto_payload.seq for e in received]
        assert pair.client.inseq == pair.server.outseq


def test_a_serialized_payload_is_replayed_as_a_replay() -> None:
    pair = logged_in_pair()
    seq = pair.server.send_serialized(serialize_once(quotes()), 0.0)
    pair.drop()  # lost on the way
    pair.server.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), 0.0)
    pair.to_client()  # the gap: asks for a replay
    pair.to_server()
    events = pair.to_client()
    (replayed,) = [e for e in events if isinstance(e, Received)]
    assert replayed.seq == seq
    assert replayed.payload.eto_payload.is_replay
    assert replayed.payload.contract_quotes.bids[0].price == 4500


def test_send_serialized_when_detached_or_not_logged_in() -> None:
    server = logged_in_pair().server
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
    pair = logged_in_pair()
    seqs = [pair.server.send(quotes(), 0.0) for _ in range(3)]
    events = pair.to_client()
    assert [e.seq for e in events if isinstance(e, Received)] == seqs
    assert Received(quotes()).seq is None  # made by hand


# -- framing --------------------------------------------------------------------------------------


def test_encode_frames_is_the_frames_joined() -> None:
    payloads = [b"", b"a", b"ab", b"abc", b"x" * 127, b"y" * 128, b"z" * 300]
    payloads += [bytearray(b"\x08\x01"), memoryview(b"\x0a\x0b\x0c")]
    assert encode_frames(payloads) == b"".join(encode_frame(p) for p in payloads)
    assert FrameDecoder().feed(encode_frames(payloads)) == [bytes(p) for p in payloads]
    assert encode_frames([]) == b""


# -- decode_payloads: one parse for a whole read ------------------------------------------


def _frames_of_every_size() -> list[bytes]:
    """Payloads whose sizes cross the one-byte length (127/128) and reach a few KiB."""
    frames = []
    for levels in (0, 1, 10, 11, 12, 13, 400):
        payload = quotes()
        for i in range(levels):
            payload.contract_quotes.offers.add(price=5000 + i, quantity=1 + i)
        payload.eto_payload.seq = 1 + len(frames)
        frames.append(payload.SerializeToString())
    return frames


def test_decode_payloads_is_decode_payload_of_each() -> None:
    frames = _frames_of_every_size()
    assert {len(f) < 0x80 for f in frames} == {True, False}
    unknown = quotes()
    unknown.eto_payload.seq = 99
    # An unknown field (number 1000, varint 5) stays with its own payload only.
    frames.append(unknown.SerializeToString() + b"\xc0\x3e\x05")
    decoded = decode_payloads(frames)
    assert decoded == [decode_payload(f) for f in frames]
    assert [p.SerializeToString() for p in decoded] == frames


def test_decode_payloads_refuses_the_first_bad_frame_of_a_batch() -> None:
    good = _frames_of_every_size()
    missing = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
    missing.eto_payload.seq = 50
    missing.order_cancel.SetInParent()  # its required `order` unset
    bad = missing.SerializePartialToString()
    with pytest.raises(RemoteProtocolError, match=r"lacks required fields: order_cancel\.order"):
        decode_payloads([*good[:3], bad, *good[3:]])
    with pytest.raises(RemoteProtocolError, match="undecodable payload"):
        decode_payloads([*good[:2], b"\xff\xff", *good[2:]])


def test_a_kept_payload_outlives_its_batch() -> None:
    """The payloads share the batch's memory; one kept alone stays whole."""
    frames = _frames_of_every_size()
    kept = decode_payloads(frames)[-1]
    gc.collect()
    assert kept.SerializeToString() == frames[-1]
    assert len(kept.contract_quotes.offers) == 400
